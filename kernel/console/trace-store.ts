// The last N traces of this process, held in memory for the console: a span processor beside the exporter (the SDK
// calls onEnd for every span it records), so the console needs no collector. Spans of other processes are theirs.
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentId?: string;
  name: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  /** Epoch milliseconds. */
  start: number;
  durationMs: number;
  error?: string;
  /** service.name of the process that recorded it. */
  service: string;
  attributes: Record<string, string | number | boolean>;
  /** Spans of other traces this one is linked to: a batch's requests or events. */
  links: Array<{ traceId: string; spanId: string }>;
}

export interface TraceSummary {
  traceId: string;
  root: string;
  start: number;
  durationMs: number;
  spans: number;
  errors: number;
}

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'] as const;
const MAX_SPANS_PER_TRACE = 500;
// Attribute names that may hold a credential, and URLs' user:password: never shown.
const SECRET_NAME = /authorization|cookie|password|passwd|secret|token|api[._-]?key/i;
const hrMs = ([s, ns]: [number, number]) => s * 1000 + ns / 1e6;

function clean(attributes: ReadableSpan['attributes']): SpanRecord['attributes'] {
  const out: SpanRecord['attributes'] = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (SECRET_NAME.test(k) || v === undefined || typeof v === 'object') continue;
    out[k] = typeof v === 'string' ? v.replace(/\/\/[^/@\s]*@/g, '//***@').slice(0, 500) : v;
  }
  return out;
}

export class TraceStore implements SpanProcessor {
  // Insertion order is recency of the trace's first span: the oldest is dropped first.
  private readonly traces = new Map<string, SpanRecord[]>();
  constructor(private readonly capacity: number) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const ctx = span.spanContext();
    const status = span.status as { code: number; message?: string };
    const record: SpanRecord = {
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      parentId: span.parentSpanContext?.spanId,
      name: span.name,
      kind: KINDS[span.kind] ?? 'internal',
      start: hrMs(span.startTime),
      durationMs: hrMs(span.duration),
      error: status.code === 2 ? (status.message ?? 'error') : undefined,
      service: String(span.resource.attributes['service.name'] ?? 'cantons'),
      attributes: clean(span.attributes),
      links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    };
    let spans = this.traces.get(record.traceId);
    if (!spans) {
      this.traces.set(record.traceId, (spans = []));
      for (const oldest of this.traces.keys()) {
        if (this.traces.size <= this.capacity) break;
        this.traces.delete(oldest);
      }
    }
    if (spans.length < MAX_SPANS_PER_TRACE) spans.push(record);
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}

  /** Newest first; requests no route took (the console's own pages, 404s: a span named by the method alone) left out. */
  list(): TraceSummary[] {
    return [...this.traces]
      .reverse()
      .filter(([, spans]) => !(spans.length === 1 && /^[A-Z]+$/.test(spans[0].name)))
      .map(([traceId, spans]) => {
        const ids = new Set(spans.map((s) => s.spanId));
        const root = spans.find((s) => !s.parentId || !ids.has(s.parentId)) ?? spans[0];
        const start = Math.min(...spans.map((s) => s.start));
        const end = Math.max(...spans.map((s) => s.start + s.durationMs));
        return { traceId, root: root.name, start, durationMs: end - start, spans: spans.length, errors: spans.filter((s) => s.error).length };
      });
  }

  get(traceId: string): SpanRecord[] | undefined {
    const spans = this.traces.get(traceId);
    return spans && [...spans].sort((a, b) => a.start - b.start);
  }
}

let store: TraceStore | undefined;

/** The process's store (one SDK per process, like kernel/tracing's): created by the first kernel that keeps traces. */
export function traceStore(capacity?: number): TraceStore | undefined {
  if (capacity && !store) store = new TraceStore(capacity);
  return store;
}
