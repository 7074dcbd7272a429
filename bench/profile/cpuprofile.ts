// Reads V8 .cpuprofile files (node --cpu-prof): stacks with their sampled time, a flame-graph SVG, a breakdown by component.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Frame {
  name: string;
  url: string;
  line: number;
}

/** One distinct stack (root first) and the microseconds sampled in it. */
export interface Stack {
  frames: Frame[];
  us: number;
}

const IDLE = new Set(['(idle)', '(root)']);

/** Every sampled stack of a profile, root first, idle time left out. */
export function readStacks(file: string): Stack[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the sample's duration is the next delta.
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  const stacks: Stack[] = [];
  for (const [id, us] of self) {
    const frames: Frame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
      frames.push({ name: functionName || '(anonymous)', url, line: lineNumber + 1 });
    }
    frames.reverse();
    const leaf = frames[frames.length - 1];
    if (IDLE.has(leaf.name)) continue;
    stacks.push({ frames: frames.filter((f) => f.name !== '(root)'), us });
  }
  return stacks;
}

/** `koa/lib/response.js`, `kernel/http/app.ts`, `node:_http_server`: the part of a URL worth reading. */
export function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  // A file of this repository, from whichever checkout ran it (this one, a worktree of another commit).
  const own = /\/((?:kernel|modules|db|bench)\/.*)$/.exec(url);
  if (own) return own[1];
  return url.replace(/^file:\/\//, '');
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface TreeNode {
  label: string;
  us: number;
  children: Map<string, TreeNode>;
}

/** A flame graph (root at the bottom, width ∝ CPU time) as a standalone SVG with a tooltip per frame. */
export function flameGraphSvg(stacks: Stack[], title: string, colour: (f: Frame) => string, width = 1200): string {
  const root: TreeNode = { label: 'all', us: 0, children: new Map() };
  for (const s of stacks) {
    root.us += s.us;
    let at = root;
    for (const f of s.frames) {
      const label = `${f.name} ${shortUrl(f.url)}${f.url ? `:${f.line}` : ''}`;
      let next = at.children.get(label);
      if (!next) at.children.set(label, (next = { label, us: 0, children: new Map() }));
      next.us += s.us;
      at = next;
    }
  }
  const rowH = 16;
  let depth = 0;
  const rects: string[] = [];
  const scale = width / root.us;
  const place = (n: TreeNode, x: number, d: number, f: Frame | undefined) => {
    depth = Math.max(depth, d);
    const w = n.us * scale;
    if (w < 0.3) return;
    rects.push(JSON.stringify({ x, d, w, label: n.label, us: n.us, fill: f ? colour(f) : '#ccc' }));
    let cx = x;
    for (const c of [...n.children.values()].sort((a, b) => a.label.localeCompare(b.label))) {
      const [name, url] = c.label.split(' ');
      place(c, cx, d + 1, { name, url: url ?? '', line: 0 });
      cx += c.us * scale;
    }
  };
  place(root, 0, 0, undefined);
  const height = (depth + 1) * rowH + 40;
  const body = rects.map((r) => {
    const { x, d, w, label, us, fill } = JSON.parse(r) as { x: number; d: number; w: number; label: string; us: number; fill: string };
    const y = height - 10 - (d + 1) * rowH;
    const pct = ((us / root.us) * 100).toFixed(2);
    const chars = Math.floor((w - 4) / 6.5);
    const text =
      chars >= 3 ? `<text x="${(x + 2).toFixed(1)}" y="${y + 12}">${escapeXml(label.length > chars ? `${label.slice(0, chars - 1)}…` : label)}</text>` : '';
    return `<g><title>${escapeXml(label)} — ${(us / 1000).toFixed(1)} ms, ${pct} %</title><rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(w - 0.5, 0.1).toFixed(1)}" height="${rowH - 1}" fill="${fill}"/>${text}</g>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="4" y="16" font-size="13">${escapeXml(title)} (${(root.us / 1000).toFixed(0)} ms sampled, idle excluded; hover a frame for its time)</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}
