// Tracing at cantons' own seams (docs/decisions/0017): the public request, role calls, database transactions, the
// outbox and the streams. One place holds the OpenTelemetry API; every helper below is one branch when tracing is
// off, and the SDK is loaded only when the OTEL_* variables turn it on (kernel/tracing/sdk.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import type * as Api from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { dbTracing } from '../../db/trace-hooks.ts';
import type { TracingSettings } from './config.ts';
import type { Sdk } from './sdk.ts';

export { otelConfigFields, tracingSettings, type TracingSettings } from './config.ts';

/** W3C trace context as headers (`traceparent`, `tracestate`, `baggage`): what HTTP, gRPC, outbox rows and stream entries carry. */
export type Carrier = Record<string, string>;

// api.SpanKind's values, without loading the API when tracing is off.
const KINDS = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 } as const;
export type SpanKindName = keyof typeof KINDS;

let sdk: Sdk | undefined;

/** Whether this process traces. */
export const tracing = (): boolean => sdk !== undefined;

/** Starts tracing for the whole process when `settings` say so; the first kernel of a process configures it. */
export async function startTracing(settings: TracingSettings | undefined, processors: SpanProcessor[] = []): Promise<void> {
  if (!settings || sdk) return;
  const { buildSdk } = await import('./sdk.ts');
  // `processors`: more span processors beside the exporter's (the console's in-memory traces, kernel/console/trace-store.ts).
  sdk = buildSdk(settings, processors);
  carryRequestIds();
  dbTracing.hooks = {
    capture: () => carrier(),
    span: (name, fn, links) => traced(name, 'internal', fn, { links: links as Array<Carrier | undefined> | undefined }),
    active: () => sdk!.api.context.active(),
    within: (context, fn) => sdk!.api.context.with(context as Api.Context, fn),
  };
}

/** Exports the spans the batch processor still holds (shutdown). */
export async function flushTracing(): Promise<void> {
  await sdk?.flush();
}

export interface SpanOptions {
  /** The parent, from a carrier (an outbox row, a stream entry); default the active span. */
  parent?: Carrier;
  /** A span of its own trace, linked to each of these (a batch: one span for many requests or events). */
  links?: Array<Carrier | undefined>;
  attributes?: Record<string, string | number | boolean>;
}

function contextOf(s: Sdk, from: Carrier | undefined): Api.Context {
  return from ? s.api.propagation.extract(s.api.ROOT_CONTEXT, from) : s.api.ROOT_CONTEXT;
}

/** Runs `fn` in a new span, ended (with its error, if any) when `fn` settles; `fn` alone when tracing is off. */
export function traced<T>(name: string, kind: SpanKindName, fn: () => Promise<T>, opts: SpanOptions = {}): Promise<T> {
  const s = sdk;
  if (!s) return fn();
  const { api } = s;
  const links = opts.links?.flatMap((c) => {
    const linked = c && api.trace.getSpanContext(contextOf(s, c));
    return linked && api.isSpanContextValid(linked) ? [{ context: linked }] : [];
  });
  const parent = opts.links ? api.ROOT_CONTEXT : opts.parent ? contextOf(s, opts.parent) : api.context.active();
  return s.tracer.startActiveSpan(name, { kind: KINDS[kind], links, attributes: opts.attributes }, parent, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The active trace context as a carrier, to store or send; undefined when tracing is off or no span is active. */
export function carrier(): Carrier | undefined {
  const s = sdk;
  if (!s?.api.trace.getSpan(s.api.context.active())) return undefined;
  const out: Carrier = {};
  s.api.propagation.inject(s.api.context.active(), out);
  return out;
}

/** The active trace context as JSON, for a row (outbox, dead letter); null when there is none. */
export function carrierJson(): string | null {
  const c = carrier();
  return c ? JSON.stringify(c) : null;
}

/** A carrier read back from a row or a stream entry; undefined when absent or not one. */
export function parseCarrier(value: unknown): Carrier | undefined {
  const parsed = typeof value === 'string' ? safeParse(value) : value;
  return parsed && typeof parsed === 'object' && typeof (parsed as Carrier).traceparent === 'string' ? (parsed as Carrier) : undefined;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---- The request id: carried to the roles a request calls, as X-Request-Id. ----

/** What a request's calls carry besides the trace context: Koa's `ctx.state`, whose `reqId` the app sets. */
export interface RequestState {
  reqId?: string;
}

// An AsyncLocalStorage costs every promise of the process on Node 20 (promise hooks), so it exists only where
// a request id has somewhere to go: a process that calls roles in other processes, or traces.
let requests: AsyncLocalStorage<RequestState> | undefined;

/** This process calls roles elsewhere (or traces): from now on request ids travel with the calls. */
export function carryRequestIds(): void {
  requests ??= new AsyncLocalStorage();
}

/** Runs `fn` with `state` as the request whose id calls to other processes carry (where they carry one). */
export function withRequestState<T>(state: RequestState, fn: () => T): T {
  return requests ? requests.run(state, fn) : fn();
}

/** What a call to another process sends along: the trace context and the request id; undefined when neither is on. */
export function outgoingHeaders(): Carrier | undefined {
  const id = requests?.getStore()?.reqId;
  const trace = carrier();
  if (!id) return trace;
  return { ...trace, 'x-request-id': id };
}

/** The log fields of the active span (pino mixin): every line written inside a span names it. A new object each time: pino merges into it. */
export function logFields(): Record<string, string> {
  const s = sdk;
  if (!s) return {};
  const span = s.api.trace.getSpan(s.api.context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

// ---- Server spans: an HTTP request (kernel/http/app.ts) or a gRPC call (kernel/transport/grpc-server.ts). ----

export interface ServerSpan {
  /** `traceresponse` (W3C Trace Context Level 2): the trace and span this request was recorded as. */
  readonly traceresponse: string;
  /** Runs `fn` with this span active (and the request id carried, where it is). */
  run<T>(fn: () => T): T;
  /** `fn`, to run later (a response's 'close') inside this span's context. */
  bind<F extends (...args: any[]) => unknown>(fn: F): F;
  /** Names the span (the route, known once routed), records the outcome and ends it. */
  end(name: string, status: { http?: number; error?: unknown; failed?: boolean }): void;
}

/**
 * A server span for a request whose headers (or gRPC metadata) may carry a parent; undefined when tracing is off.
 * Without tracing, `withRequestState` alone carries the request id.
 */
export function serverSpan(name: string, headers: Record<string, unknown>, state: RequestState): ServerSpan | undefined {
  const s = sdk;
  if (!s) return undefined;
  const { api } = s;
  const parent = api.propagation.extract(api.ROOT_CONTEXT, headers);
  const span = s.tracer.startSpan(name, { kind: KINDS.server }, parent);
  const context = api.trace.setSpan(parent, span);
  const { traceId, spanId, traceFlags } = span.spanContext();
  return {
    traceresponse: `00-${traceId}-${spanId}-0${traceFlags & 1}`,
    run: (fn) => api.context.with(context, () => withRequestState(state, fn)),
    bind: (fn) => api.context.bind(context, fn),
    end(finalName, { http, error, failed }) {
      span.updateName(finalName);
      if (http !== undefined) span.setAttribute('http.response.status_code', http);
      if (error) span.recordException(error as Error);
      if (failed) span.setStatus({ code: api.SpanStatusCode.ERROR });
      span.end();
    },
  };
}

/**
 * `methods` with each call in a span `<role>/<method>`: internal for a role in this process, the client half of a
 * client/server pair for one in another (its transport sends the context along). Unwrapped when tracing is off.
 */
export function tracedCalls<F extends object>(role: string, methods: F, kind: 'internal' | 'client'): F {
  if (!sdk) return methods;
  const out: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(methods as Record<string, (input: unknown) => Promise<unknown>>))
    out[name] = (input) => traced(`${role}/${name}`, kind, () => fn(input));
  return out as F;
}
