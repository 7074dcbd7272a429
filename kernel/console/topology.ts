// The Topology page: this process (version, uptime, readiness), every role of every module and where it runs, the
// other processes this one calls (their /readyz, asked now), and a picture of roles, calls and topics drawn from the
// module definitions.
import type { ModuleDefinition } from '../module.ts';
import type { RolePlan } from '../role-plan.ts';
import { color, esc } from '../svg-charts.ts';
import { VERSION } from '../version.ts';
import { age, table, where, type Cell } from './page.ts';

export interface TopologyInput {
  modules: ModuleDefinition<any>[];
  plan: RolePlan;
  readiness: Record<string, boolean>;
  address?: { host: string; port: number };
  bus: string;
  database: string;
  tracing: boolean;
}

interface RoleNode {
  name: string;
  module: string;
  local: boolean;
  url?: string;
  provides?: string;
  uses: string[];
  publishes: string[];
  subscribes: string[];
}

function roles(input: TopologyInput): RoleNode[] {
  const local = new Set(input.plan.local.map((r) => r.name));
  return input.modules.flatMap((m) =>
    Object.entries(m.roles).map(([role, spec]) => {
      const name = `${m.name}.${role}`;
      return {
        name,
        module: m.name,
        local: local.has(name),
        url: input.plan.remote.get(name),
        provides: spec.provides?.role,
        uses: (spec.uses ?? []).map((c) => c.role),
        publishes: (spec.publishes ?? []).map((t) => t.name),
        subscribes: (spec.subscribes ?? []).map((t) => t.name),
      };
    }),
  );
}

export type Probe = { status: 'ready' | 'not ready' | 'unreachable' | 'not probed (gRPC)'; checks?: Record<string, boolean> };

/** Another process, asked through its open probe only: its /readyz status and the names of its checks, nothing else. */
export async function probe(url: string): Promise<Probe> {
  if (!/^https?:/.test(url)) return { status: 'not probed (gRPC)' };
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/readyz`, { signal: AbortSignal.timeout(1500), redirect: 'error' });
    const body = (await res.json().catch(() => ({}))) as { checks?: Record<string, unknown> };
    // What a peer answered is shown only as check names of a safe shape and booleans.
    const checks = Object.fromEntries(
      Object.entries(body.checks ?? {})
        .filter(([k]) => /^[\w.:-]{1,64}$/.test(k))
        .slice(0, 40)
        .map(([k, v]) => [k, v === true]),
    );
    return { status: res.status === 200 ? 'ready' : 'not ready', checks };
  } catch {
    return { status: 'unreachable' };
  }
}

const checksCell = (checks: Record<string, boolean> | undefined): Cell => ({
  html: Object.entries(checks ?? {})
    .map(([k, ok]) => `<span class="${ok ? 'ok' : 'bad'}">${esc(k)}</span>`)
    .join(' '),
});

export function renderTopology(input: TopologyInput, probes: Map<string, Probe>): string {
  const nodes = roles(input);
  const ready = Object.values(input.readiness).every(Boolean);
  const facts: Array<[string, string]> = [
    ['version', VERSION],
    ['uptime', age(process.uptime())],
    ['started', new Date(Date.now() - process.uptime() * 1000).toISOString()],
    ['process', `pid ${process.pid}, Node ${process.version}`],
    ['listening', input.address ? `${input.address.host}:${input.address.port}` : '–'],
    ['event bus', input.bus],
    ['databases', input.database],
    ['tracing', input.tracing ? 'on' : 'off'],
  ];
  const origins = [...new Set([...input.plan.remote.values()].map(where))];
  const processes: Cell[][] = [
    [
      'this process',
      nodes
        .filter((n) => n.local)
        .map((n) => n.name)
        .join(', '),
      ready ? 'ready' : 'not ready',
      checksCell(input.readiness),
    ],
    ...origins.map((o): Cell[] => {
      const p = probes.get(o);
      const served = nodes.filter((n) => n.url && where(n.url) === o).map((n) => n.name);
      return [o, served.join(', '), p?.status ?? '–', checksCell(p?.checks)];
    }),
  ];
  const roleRows = nodes.map((n): Cell[] => [
    n.module,
    n.name,
    n.local ? 'this process' : n.url ? where(n.url) : { html: '<span class="muted">not in this process, not called from it</span>' },
    n.provides ?? null,
    n.uses.join(', ') || null,
    n.publishes.join(', ') || null,
    n.subscribes.join(', ') || null,
  ]);
  return [
    `<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`,
    '<h2>Processes</h2>',
    '<p class="muted">This process, and each process it calls, asked for its <code>/readyz</code> when this page was opened.</p>',
    table(['process', 'roles', 'readiness', 'checks'], processes),
    '<h2>Roles</h2>',
    table(['module', 'role', 'runs', 'provides', 'uses', 'publishes', 'subscribes'], roleRows),
    '<h2>Picture</h2>',
    topologySvg(nodes),
  ].join('\n');
}

const BOX_W = 190;
const BOX_H = 46;
const COL_GAP = 150;
const ROW_GAP = 26;

/** Modules as columns of role boxes; a solid arrow where a role uses another's contract, a dashed one per topic from publisher to subscriber. */
export function topologySvg(nodes: RoleNode[]): string {
  const modules = [...new Set(nodes.map((n) => n.module))];
  const at = new Map<string, { x: number; y: number }>();
  const top = 40;
  let height = 0;
  modules.forEach((m, i) => {
    nodes
      .filter((n) => n.module === m)
      .forEach((n, j) => {
        const pos = { x: 60 + i * (BOX_W + COL_GAP), y: top + 22 + j * (BOX_H + ROW_GAP) };
        at.set(n.name, pos);
        height = Math.max(height, pos.y + BOX_H);
      });
  });
  const width = 60 + modules.length * (BOX_W + COL_GAP);
  const body: string[] = [
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#555"/></marker></defs>',
  ];
  modules.forEach((m, i) => {
    body.push(`<text x="${60 + i * (BOX_W + COL_GAP)}" y="${top + 8}" font-weight="bold">${esc(m)}</text>`);
  });
  // Edges first, so that boxes sit on top of them.
  const edges: Array<{ from: string; to: string; label: string; dashed: boolean }> = [];
  for (const n of nodes) {
    for (const used of n.uses) if (at.has(used)) edges.push({ from: n.name, to: used, label: 'calls', dashed: false });
    for (const published of n.publishes) {
      // Within its module's column a topic is named without the module: `report_completed`.
      const topic = published;
      for (const s of nodes.filter((x) => x.subscribes.includes(topic) && x.name !== n.name)) {
        const same = edges.find((e) => e.dashed && e.from === n.name && e.to === s.name);
        const short = topic.slice(topic.indexOf('.') + 1);
        if (same) same.label += `, ${short}`;
        else edges.push({ from: n.name, to: s.name, label: short, dashed: true });
      }
    }
  }
  let extra = 0;
  for (const e of edges) {
    const a = at.get(e.from)!;
    const b = at.get(e.to)!;
    const label = e.label.length > 36 ? `${e.label.slice(0, 35)}…` : e.label;
    const stroke = e.dashed ? `stroke="${color(1)}" stroke-dasharray="5 3"` : 'stroke="#555"';
    if (a.x === b.x) {
      // Within a module: calls arc on the left of its column, events on the right, so neither hides the other.
      const [y1, y2] = [a.y + BOX_H / 2, b.y + BOX_H / 2];
      const side = e.dashed ? a.x + BOX_W : a.x;
      const bend = e.dashed ? side + 36 + (extra++ % 3) * 8 : side - 36;
      body.push(`<path d="M${side} ${y1} C${bend} ${y1} ${bend} ${y2} ${side} ${y2}" fill="none" ${stroke} marker-end="url(#arrow)"/>`);
      body.push(
        `<text x="${e.dashed ? bend - 24 : bend + 24}" y="${(y1 + y2) / 2 + 4}" font-size="10" fill="#444"${e.dashed ? '' : ' text-anchor="end"'}>${esc(label)}</text>`,
      );
    } else {
      const [x1, x2] = a.x < b.x ? [a.x + BOX_W, b.x] : [a.x, b.x + BOX_W];
      const [y1, y2] = [a.y + BOX_H / 2, b.y + BOX_H / 2];
      const mid = (x1 + x2) / 2;
      body.push(`<path d="M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}" fill="none" ${stroke} marker-end="url(#arrow)"/>`);
      body.push(`<text x="${mid}" y="${(y1 + y2) / 2 - 4}" font-size="10" text-anchor="middle" fill="#444">${esc(label)}</text>`);
    }
  }
  for (const n of nodes) {
    const { x, y } = at.get(n.name)!;
    const fill = n.local ? '#dbe9f6' : n.url ? '#f3f3f3' : '#fff';
    const dash = n.local || n.url ? '' : ' stroke-dasharray="3 3"';
    const place = n.local ? 'this process' : n.url ? where(n.url) : 'not here';
    body.push(`<rect x="${x}" y="${y}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${fill}" stroke="#4e79a7"${dash}/>`);
    body.push(`<text x="${x + 8}" y="${y + 18}" font-weight="bold">${esc(n.name)}</text>`);
    body.push(`<text x="${x + 8}" y="${y + 35}" font-size="10" fill="#555">${esc(place.length > 34 ? `${place.slice(0, 33)}…` : place)}</text>`);
  }
  const legendY = height + 30;
  body.push(
    `<rect x="20" y="${legendY - 10}" width="14" height="10" fill="#dbe9f6" stroke="#4e79a7"/><text x="40" y="${legendY}">runs in this process</text>`,
    `<rect x="170" y="${legendY - 10}" width="14" height="10" fill="#f3f3f3" stroke="#4e79a7"/><text x="190" y="${legendY}">another process (its URL)</text>`,
    `<rect x="350" y="${legendY - 10}" width="14" height="10" fill="#fff" stroke="#4e79a7" stroke-dasharray="3 3"/><text x="370" y="${legendY}">not here</text>`,
    `<line x1="450" x2="480" y1="${legendY - 4}" y2="${legendY - 4}" stroke="#555"/><text x="486" y="${legendY}">calls (uses a contract)</text>`,
    `<line x1="640" x2="670" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${color(1)}" stroke-dasharray="5 3"/><text x="676" y="${legendY}">events (topic)</text>`,
  );
  const w = Math.max(width + 60, 800);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${legendY + 14}" viewBox="0 0 ${w} ${legendY + 14}" font-family="sans-serif" font-size="12" role="img"><title>Roles, their calls and topics</title><rect width="${w}" height="${legendY + 14}" fill="#fff"/>${body.join('')}</svg>`;
}
