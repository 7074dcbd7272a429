// Charts as self-contained SVG text (no scripts, no fonts, no links): line charts over x/y axes and horizontal bars.

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
export const color = (i: number) => PALETTE[i % PALETTE.length];

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Tick and value labels: 12k, 2.5, 0.125. */
export const num = (v: number) => (Math.abs(v) >= 10_000 ? `${Number((v / 1000).toPrecision(4))}k` : String(Number(v.toPrecision(4))));
const px = (v: number) => Math.round(v * 10) / 10;

/** 1, 2 or 5 × 10^k, so about `count` ticks span 0 … max. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

/** The title on top, the caption (when, how loaded …) in grey under the content, which ends at `height`. */
function frame(width: number, height: number, title: string, caption: string | undefined, body: string[]): string {
  const total = caption ? height + 16 : height;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${total}" fill="#fff"/>`,
    `<text x="8" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`,
    ...body,
    ...(caption ? [`<text x="8" y="${total - 6}" fill="#666">${esc(caption)}</text>`] : []),
    '</svg>',
  ].join('\n');
}

/** Legend entries in rows below the plot, one per distinct name; returns the lines and the height they take. */
function legend(items: { name: string; color: string }[], top: number, width: number): { lines: string[]; height: number } {
  const lines: string[] = [];
  let [x, y] = [8, top];
  for (const { name, color } of items) {
    const w = 24 + name.length * 6.2;
    if (x + w > width && x > 8) [x, y] = [8, y + 16];
    lines.push(`<rect x="${x}" y="${y - 8}" width="12" height="8" fill="${color}"/><text x="${x + 16}" y="${y}">${esc(name)}</text>`);
    x += w + 8;
  }
  return { lines, height: items.length ? y - top + 16 : 0 };
}

export interface Series {
  /** Legend text; series sharing a name (and colour) get one legend entry, e.g. p99 of every round. */
  name: string;
  color: string;
  points: Array<[x: number, y: number]>;
}

export interface LineChart {
  title: string;
  caption?: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** The x axis spans exactly these ticks (e.g. rounds 1 … 5); by default 0 … a round number past the data. */
  xTicks?: number[];
  width?: number;
  height?: number;
}

/** Lines from 0 on both axes; a dot on each point when there are few (rounds), so a single point still shows. */
export function lineChart({ title, caption, xLabel, yLabel, series, xTicks, width = 600, height = 240 }: LineChart): string {
  const [left, right, top, plotH] = [56, 16, 28, height - 70];
  const plotW = width - left - right;
  const all = series.flatMap((s) => s.points);
  const xStep = niceStep(Math.max(1, ...all.map(([x]) => x)), 8);
  const xMax0 = xStep * Math.ceil(Math.max(1, ...all.map(([x]) => x)) / xStep);
  const ticks = xTicks ?? Array.from({ length: Math.round(xMax0 / xStep) + 1 }, (_, i) => i * xStep);
  const [xMin, xMax] = [ticks[0], Math.max(ticks[0] + 1e-9, ticks.at(-1)!)];
  const yStep = niceStep(Math.max(1e-9, ...all.map(([, y]) => y)), 4);
  const yMax = yStep * Math.max(1, Math.ceil(Math.max(0, ...all.map(([, y]) => y)) / yStep));
  const X = (x: number) => px(left + ((x - xMin) / (xMax - xMin)) * plotW);
  const Y = (y: number) => px(top + plotH - (y / yMax) * plotH);
  const body: string[] = [];
  for (let y = 0; y <= yMax + yStep / 2; y += yStep) {
    body.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${Y(y)}" y2="${Y(y)}" stroke="#ddd"/><text x="${left - 4}" y="${Y(y) + 4}" text-anchor="end">${num(y)}</text>`,
    );
  }
  for (const x of ticks) {
    body.push(
      `<line x1="${X(x)}" x2="${X(x)}" y1="${top + plotH}" y2="${top + plotH + 4}" stroke="#666"/><text x="${X(x)}" y="${top + plotH + 15}" text-anchor="middle">${num(x)}</text>`,
    );
  }
  body.push(
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#666"/><line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#666"/>`,
  );
  body.push(`<text x="${left + plotW / 2}" y="${top + plotH + 28}" text-anchor="middle">${esc(xLabel)}</text>`);
  body.push(`<text transform="translate(12 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  for (const s of series) {
    const pts = s.points.map(([x, y]) => `${X(x)},${Y(y)}`);
    if (pts.length > 1) body.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    if (pts.length <= 12) for (const [x, y] of s.points) body.push(`<circle cx="${X(x)}" cy="${Y(y)}" r="2.5" fill="${s.color}"/>`);
  }
  const names = [...new Map(series.map((s) => [s.name, s.color])).entries()].map(([name, c]) => ({ name, color: c }));
  const key = legend(names, top + plotH + 46, width);
  return frame(width, top + plotH + 40 + key.height, title, caption, [...body, ...key.lines]);
}

export interface Bar {
  label: string;
  value: number;
  /** Drawn as a dashed line across the bar's row; the bar is green when met, red when not. */
  target?: number;
  met?: boolean;
  /** Smaller marks on the bar: e.g. the per-round values the bar is the median of. */
  dots?: number[];
}

/** One row per bar: its label and value above, the bar from 0 below, dots and target line over it. */
export function barChart({ title, caption, bars, width: least = 600 }: { title: string; caption?: string; bars: Bar[]; width?: number }): string {
  const width = Math.max(least, ...bars.map((b) => 70 + (b.label.length + 8) * 6.2)); // room for the longest label
  const [left, right, top, row] = [8, 40, 30, 34];
  const plotW = width - left - right;
  const top1 = Math.max(1e-9, ...bars.flatMap((b) => [b.value, b.target ?? 0, ...(b.dots ?? [])]));
  const step = niceStep(top1, 5);
  const max = step * Math.ceil(top1 / step);
  const X = (v: number) => px(left + (Math.max(0, v) / max) * plotW);
  const body: string[] = [];
  const bottom = top + bars.length * row;
  for (let v = 0; v <= max + step / 2; v += step) {
    body.push(
      `<line x1="${X(v)}" x2="${X(v)}" y1="${top}" y2="${bottom}" stroke="#eee"/><text x="${X(v)}" y="${bottom + 12}" text-anchor="middle">${num(v)}</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * row;
    const fill = b.met === undefined ? '#4e79a7' : b.met ? '#59a14f' : '#e15759';
    body.push(`<text x="${left}" y="${y + 10}">${esc(b.label)} = <tspan font-weight="bold">${num(b.value)}</tspan></text>`);
    body.push(`<rect x="${left}" y="${y + 14}" width="${px(X(b.value) - left)}" height="12" fill="${fill}"/>`);
    for (const d of b.dots ?? []) body.push(`<circle cx="${X(d)}" cy="${y + 20}" r="2.5" fill="#fff" stroke="#222"/>`);
    if (b.target !== undefined) body.push(`<line x1="${X(b.target)}" x2="${X(b.target)}" y1="${y + 11}" y2="${y + 29}" stroke="#222" stroke-dasharray="3 2"/>`);
  });
  return frame(width, bottom + 20, title, caption, body);
}
