// The one chart writer of cantons (docs/decisions/0018): self-contained SVG text — no scripts, fonts or links — with
// axis ticks, gridlines and a legend, for the console, the benchmark module's report and the bench's pages alike.

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
export const color = (i: number) => PALETTE[i % PALETTE.length];

/** Text for markup: the five characters that could open or end a tag or an attribute. */
export const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
/** Tick and value labels: 12k, 2.5, 0.125. */
export const num = (v: number) => (Math.abs(v) >= 10_000 ? `${Number((v / 1000).toPrecision(4))}k` : String(Number(v.toPrecision(4))));
const px = (v: number) => Math.round(v * 10) / 10;
const textWidth = (s: string) => s.length * 6.2;

/** 1, 2 or 5 × 10^k, so about `count` ticks span 0 … max. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

/** 0, step, 2·step … up to the first tick at or past `max`. */
function ticksTo(max: number, count: number): { step: number; top: number; ticks: number[] } {
  // All zero (an empty outbox): an axis of 0 … 1 rather than of nothing.
  const step = niceStep(max > 0 ? max : 1, count);
  const top = step * Math.max(1, Math.ceil(Math.max(0, max) / step - 1e-9));
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => px(i * step * 1e6) / 1e6);
  return { step, top, ticks };
}

/** The title on top, the caption (when, how loaded …) in grey under the content, which ends at `height`. */
function frame(width: number, height: number, title: string, caption: string | undefined, body: string[]): string {
  const total = caption ? height + 16 : height;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}" font-family="sans-serif" font-size="11" role="img">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${total}" fill="#fff"/>`,
    `<text x="8" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`,
    ...body,
    ...(caption ? [`<text x="8" y="${total - 6}" fill="#666">${esc(caption)}</text>`] : []),
    '</svg>',
  ].join('\n');
}

export interface LegendItem {
  name: string;
  color: string;
}

/** Legend entries in rows below the plot, one per distinct name; returns the lines and the height they take. */
function legend(items: LegendItem[], top: number, width: number): { lines: string[]; height: number } {
  const lines: string[] = [];
  let [x, y] = [8, top];
  for (const { name, color } of items) {
    const w = 24 + textWidth(name);
    if (x + w > width && x > 8) [x, y] = [8, y + 16];
    lines.push(`<rect x="${x}" y="${y - 8}" width="12" height="8" fill="${color}"/><text x="${x + 16}" y="${y}">${esc(name)}</text>`);
    x += w + 8;
  }
  return { lines, height: items.length ? y - top + 16 : 0 };
}

const distinct = (items: LegendItem[]) => [...new Map(items.map((s) => [s.name, s.color])).entries()].map(([name, c]) => ({ name, color: c }));

/** Horizontal gridlines with their value on the left, and both axes with their labels. */
function yAxis(body: string[], box: { left: number; top: number; w: number; h: number }, ticks: number[], top: number, xLabel: string, yLabel: string) {
  const { left, w, h } = box;
  const Y = (v: number) => px(box.top + h - (v / top) * h);
  for (const v of ticks)
    body.push(
      `<line x1="${left}" x2="${left + w}" y1="${Y(v)}" y2="${Y(v)}" stroke="#ddd"/><text x="${left - 4}" y="${Y(v) + 4}" text-anchor="end">${num(v)}</text>`,
    );
  body.push(
    `<line x1="${left}" x2="${left}" y1="${box.top}" y2="${box.top + h}" stroke="#666"/><line x1="${left}" x2="${left + w}" y1="${box.top + h}" y2="${box.top + h}" stroke="#666"/>`,
  );
  if (xLabel) body.push(`<text x="${left + w / 2}" y="${box.top + h + 28}" text-anchor="middle">${esc(xLabel)}</text>`);
  if (yLabel) body.push(`<text transform="translate(12 ${box.top + h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  return Y;
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
  const ticks = xTicks ?? ticksTo(Math.max(1, ...all.map(([x]) => x)), 8).ticks;
  const [xMin, xMax] = [ticks[0], Math.max(ticks[0] + 1e-9, ticks.at(-1)!)];
  const ys = ticksTo(Math.max(0, ...all.map(([, y]) => y)), 4);
  const X = (x: number) => px(left + ((x - xMin) / (xMax - xMin)) * plotW);
  const body: string[] = [];
  const Y = yAxis(body, { left, top, w: plotW, h: plotH }, ys.ticks, ys.top, xLabel, yLabel);
  for (const x of ticks) {
    body.push(
      `<line x1="${X(x)}" x2="${X(x)}" y1="${top + plotH}" y2="${top + plotH + 4}" stroke="#666"/><text x="${X(x)}" y="${top + plotH + 15}" text-anchor="middle">${num(x)}</text>`,
    );
  }
  for (const s of series) {
    const pts = s.points.map(([x, y]) => `${X(x)},${Y(y)}`);
    if (pts.length > 1) body.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    if (pts.length <= 12) for (const [x, y] of s.points) body.push(`<circle cx="${X(x)}" cy="${Y(y)}" r="2.5" fill="${s.color}"/>`);
  }
  const key = legend(distinct(series), top + plotH + 46, width);
  return frame(width, top + plotH + 40 + key.height, title, caption, [...body, ...key.lines]);
}

export interface ColumnSeries {
  name: string;
  color: string;
  /** One value per category; null draws a grey tick on the axis (no value). */
  values: Array<number | null>;
}

export interface ColumnChart {
  title: string;
  caption?: string;
  xLabel: string;
  yLabel: string;
  /** The x axis: one group of columns per category (documents, histogram bins, percentiles). */
  categories: string[];
  series: ColumnSeries[];
  width?: number;
  height?: number;
}

/** Vertical columns from 0, grouped per category, one colour per series; category labels thinned to fit. */
export function columnChart({ title, caption, xLabel, yLabel, categories, series, width = 720, height = 260 }: ColumnChart): string {
  const [left, right, top, plotH] = [56, 16, 28, height - 70];
  const plotW = width - left - right;
  const ys = ticksTo(Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0))), 4);
  const body: string[] = [];
  const Y = yAxis(body, { left, top, w: plotW, h: plotH }, ys.ticks, ys.top, xLabel, yLabel);
  const slot = plotW / Math.max(1, categories.length);
  const gap = slot > 6 ? Math.min(8, slot * 0.2) : 0;
  const bw = Math.max(0.5, (slot - gap) / Math.max(1, series.length));
  const widest = Math.max(1, ...categories.map(textWidth));
  const every = Math.max(1, Math.ceil((widest + 6) / slot));
  categories.forEach((c, i) => {
    const x0 = left + i * slot + gap / 2;
    series.forEach((s, j) => {
      const v = s.values[i];
      const x = px(x0 + j * bw);
      const label = `${c}, ${s.name}: ${v === null || v === undefined ? 'no value' : num(v)}`;
      if (v === null || v === undefined)
        body.push(`<rect x="${x}" y="${top + plotH - 2}" width="${px(Math.max(0.5, bw - 1))}" height="2" fill="#bbb"><title>${esc(label)}</title></rect>`);
      else
        body.push(
          `<rect x="${x}" y="${Y(v)}" width="${px(Math.max(0.5, bw - (bw > 3 ? 1 : 0)))}" height="${px(top + plotH - Y(v))}" fill="${s.color}"><title>${esc(label)}</title></rect>`,
        );
    });
    if (i % every === 0)
      body.push(
        `<line x1="${px(x0 + (slot - gap) / 2)}" x2="${px(x0 + (slot - gap) / 2)}" y1="${top + plotH}" y2="${top + plotH + 4}" stroke="#666"/><text x="${px(x0 + (slot - gap) / 2)}" y="${top + plotH + 15}" text-anchor="middle">${esc(c)}</text>`,
      );
  });
  const key = legend(distinct(series), top + plotH + 46, width);
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
  /** The bar's colour when it has no target (default the first of the palette). */
  color?: string;
}

export interface BarChart {
  title: string;
  caption?: string;
  bars: Bar[];
  width?: number;
  /** The value axis's label, under its ticks. */
  xLabel?: string;
  /** What the colours mean; by default none, or met / not met when bars have targets. */
  legend?: LegendItem[];
}

/** One row per bar: its label and value above, the bar from 0 below, dots and target line over it, ticks and gridlines. */
export function barChart({ title, caption, bars, width: least = 600, xLabel, legend: items }: BarChart): string {
  const width = Math.max(least, ...bars.map((b) => 70 + textWidth(`${b.label}        `))); // room for the longest label
  const [left, right, top, row] = [8, 40, 30, 34];
  const plotW = width - left - right;
  const xs = ticksTo(Math.max(0, ...bars.flatMap((b) => [b.value, b.target ?? 0, ...(b.dots ?? [])])), 5);
  const X = (v: number) => px(left + (Math.max(0, v) / xs.top) * plotW);
  const body: string[] = [];
  const bottom = top + bars.length * row;
  for (const v of xs.ticks) {
    body.push(
      `<line x1="${X(v)}" x2="${X(v)}" y1="${top}" y2="${bottom}" stroke="#eee"/><text x="${X(v)}" y="${bottom + 12}" text-anchor="middle">${num(v)}</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * row;
    const fill = b.met === undefined ? (b.color ?? color(0)) : b.met ? '#59a14f' : '#e15759';
    body.push(`<text x="${left}" y="${y + 10}">${esc(b.label)} = <tspan font-weight="bold">${num(b.value)}</tspan></text>`);
    body.push(`<rect x="${left}" y="${y + 14}" width="${px(X(b.value) - left)}" height="12" fill="${fill}"/>`);
    for (const d of b.dots ?? []) body.push(`<circle cx="${X(d)}" cy="${y + 20}" r="2.5" fill="#fff" stroke="#222"/>`);
    if (b.target !== undefined) body.push(`<line x1="${X(b.target)}" x2="${X(b.target)}" y1="${y + 11}" y2="${y + 29}" stroke="#222" stroke-dasharray="3 2"/>`);
  });
  let height = bottom + 20;
  if (xLabel) {
    body.push(`<text x="${left + plotW / 2}" y="${bottom + 26}" text-anchor="middle">${esc(xLabel)}</text>`);
    height += 14;
  }
  const targets = bars.some((b) => b.met !== undefined);
  const entries =
    items ??
    (targets
      ? [
          { name: 'target met', color: '#59a14f' },
          { name: 'target not met', color: '#e15759' },
        ]
      : []);
  const key = legend(entries, height + 6, width);
  return frame(width, height + key.height, title, caption, [...body, ...key.lines]);
}

export interface Span {
  label: string;
  /** Offset from the timeline's start and length, in the axis's unit. */
  start: number;
  duration: number;
  color: string;
  /** Indentation (depth in a tree), 0 at the root. */
  depth?: number;
}

/** A waterfall: one row per span on a shared time axis with ticks and gridlines, each row indented by its depth. */
export function timelineChart({
  title,
  caption,
  unit,
  spans,
  legend: items = [],
  width = 900,
}: {
  title: string;
  caption?: string;
  unit: string;
  spans: Span[];
  legend?: LegendItem[];
  width?: number;
}): string {
  const labelW = Math.min(320, Math.max(120, ...spans.map((s) => textWidth(s.label) + (s.depth ?? 0) * 10 + 12)));
  const [top, row, right] = [30, 18, 16];
  const plotW = width - labelW - right;
  const xs = ticksTo(Math.max(0, ...spans.map((s) => s.start + s.duration)), 6);
  const X = (v: number) => px(labelW + (Math.max(0, v) / xs.top) * plotW);
  const bottom = top + spans.length * row;
  const body: string[] = [];
  for (const v of xs.ticks)
    body.push(
      `<line x1="${X(v)}" x2="${X(v)}" y1="${top}" y2="${bottom}" stroke="#eee"/><text x="${X(v)}" y="${bottom + 12}" text-anchor="middle">${num(v)}</text>`,
    );
  body.push(`<text x="${labelW + plotW / 2}" y="${bottom + 26}" text-anchor="middle">${esc(unit)}</text>`);
  spans.forEach((s, i) => {
    const y = top + i * row;
    const label = s.label.length > 48 ? `${s.label.slice(0, 47)}…` : s.label;
    body.push(`<text x="${8 + (s.depth ?? 0) * 10}" y="${y + 12}">${esc(label)}</text>`);
    body.push(
      `<rect x="${X(s.start)}" y="${y + 3}" width="${px(Math.max(1, X(s.start + s.duration) - X(s.start)))}" height="11" fill="${s.color}"><title>${esc(`${s.label}: ${num(s.duration)} ${unit}`)}</title></rect>`,
    );
  });
  const key = legend(distinct(items), bottom + 44, width);
  return frame(width, bottom + 34 + key.height, title, caption, [...body, ...key.lines]);
}
