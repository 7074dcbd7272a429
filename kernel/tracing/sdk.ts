// The OpenTelemetry SDK, built from the OTEL_* settings: loaded by kernel/tracing/index.ts only when tracing is on,
// so a process that does not trace never pays its start-up (the packages are required here, at call time).
import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import type { TracingSettings } from './config.ts';

export interface Sdk {
  api: typeof Api;
  tracer: Api.Tracer;
  /** Exports what the batch processor holds (shutdown, tests). */
  flush(): Promise<void>;
}

const load = createRequire(import.meta.url);

export function buildSdk(settings: TracingSettings, processors: import('@opentelemetry/sdk-trace-base').SpanProcessor[] = []): Sdk {
  const api = load('@opentelemetry/api') as typeof Api;
  const core = load('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const base = load('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = load('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { AsyncLocalStorageContextManager } = load('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { OTLPTraceExporter } = (
    settings.protocol === 'http/json' ? load('@opentelemetry/exporter-trace-otlp-http') : load('@opentelemetry/exporter-trace-otlp-proto')
  ) as typeof import('@opentelemetry/exporter-trace-otlp-http');

  const ratio = new base.TraceIdRatioBasedSampler(settings.ratio);
  const root = { always_on: new base.AlwaysOnSampler(), always_off: new base.AlwaysOffSampler(), traceidratio: ratio };
  const [, parentBased, kind] = /^(parentbased_)?(.*)$/.exec(settings.sampler) as unknown as [string, string | undefined, keyof typeof root];
  const sampler = parentBased ? new base.ParentBasedSampler({ root: root[kind] }) : root[kind];

  const exporter = new OTLPTraceExporter({ url: settings.url, headers: settings.headers, timeoutMillis: settings.batch.exportTimeoutMillis });
  const provider = new base.BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName, ...settings.attributes }),
    sampler,
    spanProcessors: [new base.BatchSpanProcessor(exporter, settings.batch), ...processors],
  });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new core.CompositePropagator({ propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()] }));
  api.trace.setGlobalTracerProvider(provider);
  return { api, tracer: provider.getTracer('cantons'), flush: () => provider.forceFlush() };
}
