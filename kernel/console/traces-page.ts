// The Traces page: the last traces this process recorded (kernel/console/trace-store.ts) and the waterfall of one —
// its spans on one time axis, by process, with their attributes and links to the traces they are batched with.
import { color, esc, timelineChart } from '../svg-charts.ts';
import { folded, table, type Cell } from './page.ts';
import type { SpanRecord, TraceStore } from './trace-store.ts';

const OFF = `<p class="note">Tracing is off in this process. Set <code>OTEL_TRACES_EXPORTER=otlp</code> or <code>OTEL_EXPORTER_OTLP_ENDPOINT</code>
(docs/operations.md, <i>Tracing</i>) and keep <code>CONSOLE_TRACES</code> above 0: the console then holds the last traces in memory.</p>`;

export function renderTraceList(store: TraceStore | undefined, tracing: boolean): string {
  if (!tracing || !store) return OFF;
  const rows = store
    .list()
    .map((t): Cell[] => [
      new Date(t.start).toISOString(),
      { text: t.root, href: `/console/traces/${t.traceId}` },
      Math.round(t.durationMs * 100) / 100,
      t.spans,
      t.errors ? { html: `<span class="bad">${t.errors}</span>` } : 0,
      t.traceId,
    ]);
  return `<p class="muted">Newest first; the last traces of this process only (a trace's spans in other processes are in theirs, and in the OTLP backend).</p>${table(
    ['started', 'root span', 'ms', 'spans', 'errors', 'trace id'],
    rows,
    'no traces yet',
  )}`;
}

/** Depth of each span in its tree; a span whose parent is elsewhere (another process) is a root here. */
function depths(spans: SpanRecord[]): Map<string, number> {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const out = new Map<string, number>();
  const depth = (s: SpanRecord, seen = 0): number => {
    if (out.has(s.spanId)) return out.get(s.spanId)!;
    const parent = s.parentId ? byId.get(s.parentId) : undefined;
    const d = parent && seen < 50 ? depth(parent, seen + 1) + 1 : 0;
    out.set(s.spanId, d);
    return d;
  };
  for (const s of spans) depth(s);
  return out;
}

/** Tree order: each span followed by its children, by start time. */
function treeOrder(spans: SpanRecord[]): SpanRecord[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | undefined, SpanRecord[]>();
  for (const s of spans) {
    const parent = s.parentId && ids.has(s.parentId) ? s.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: SpanRecord[] = [];
  const walk = (id: string | undefined) => {
    for (const s of children.get(id) ?? []) {
      out.push(s);
      walk(s.spanId);
    }
  };
  walk(undefined);
  return out;
}

export function renderTrace(store: TraceStore | undefined, traceId: string): string | undefined {
  const found = store?.get(traceId);
  if (!found) return undefined;
  const spans = treeOrder(found);
  const d = depths(spans);
  const t0 = Math.min(...spans.map((s) => s.start));
  const services = [...new Set(spans.map((s) => s.service))];
  const hue = (s: SpanRecord) => (s.error ? '#e15759' : color(services.indexOf(s.service) === 0 ? 0 : services.indexOf(s.service) + 1));
  const chart = timelineChart({
    title: `Trace ${traceId}`,
    caption: `${spans.length} spans, started ${new Date(t0).toISOString()}`,
    unit: 'ms from the first span',
    spans: spans.map((s) => ({ label: s.name, start: s.start - t0, duration: s.durationMs, depth: d.get(s.spanId), color: hue(s) })),
    legend: [...services.map((name, i) => ({ name: `process ${name}`, color: color(i === 0 ? 0 : i + 1) })), { name: 'failed', color: '#e15759' }],
  });
  const rows = spans.map((s): Cell[] => [
    { html: `${'&nbsp;&nbsp;'.repeat(d.get(s.spanId) ?? 0)}${esc(s.name)}` },
    s.kind,
    s.service,
    Math.round((s.start - t0) * 100) / 100,
    Math.round(s.durationMs * 100) / 100,
    s.error ? { html: `<span class="bad">${esc(s.error)}</span>` } : null,
    Object.keys(s.attributes).length
      ? folded(
          Object.entries(s.attributes)
            .map(([k, v]) => `${k} = ${v}`)
            .join('\n'),
          4000,
        )
      : null,
    s.links.length
      ? {
          html: s.links
            .map((l) =>
              store?.get(l.traceId)
                ? `<a href="/console/traces/${esc(l.traceId)}">${esc(l.traceId.slice(0, 12))}…</a>`
                : `<span class="muted">${esc(l.traceId.slice(0, 12))}… (not held)</span>`,
            )
            .join('<br>'),
        }
      : null,
  ]);
  return `${chart}${table(['span', 'kind', 'process', 'start ms', 'ms', 'error', 'attributes', 'links (batched with)'], rows)}`;
}
