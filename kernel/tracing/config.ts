// The OTEL_* variables the kernel reads (the names and meanings of the OpenTelemetry specification), and
// what they turn into: whether tracing is on, the exporter, the sampler, the batch processor.
import { z } from 'zod';

const positive = (def: number) => z.coerce.number<string>({ error: 'not a number' }).int().min(1).default(def);

/** Spread into the kernel's config schema: every OTEL_* variable the kernel reads, so the docs table them. */
export const otelConfigFields = {
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false').describe('true: no tracing, whatever the other OTEL_* variables say'),
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'none'])
    .optional()
    .describe(
      'otlp turns tracing on (to OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318); none keeps it off; unset: on when an OTLP endpoint is set',
    ),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('base URL of the OTLP/HTTP receiver (a collector, Jaeger, Tempo); spans go to its /v1/traces; setting it turns tracing on'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('full URL spans are posted to, instead of OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces; setting it turns tracing on'),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).default('http/protobuf').describe('OTLP encoding over HTTP (grpc is not offered)'),
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .optional()
    .describe('secret; headers sent with every export, `name=value` comma-separated (an API key of a hosted backend)'),
  OTEL_SERVICE_NAME: z
    .string()
    .min(1)
    .optional()
    .describe('service.name of the spans; default cantons, or cantons:ROLES (comma-separated) when this process runs only some roles'),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional().describe('more resource attributes, `key=value` comma-separated (deployment.environment=prod)'),
  OTEL_TRACES_SAMPLER: z
    .enum(['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio'])
    .default('parentbased_always_on')
    .describe('which traces are recorded; parentbased_*: as the caller decided when a traceparent came with the request'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce
    .number<string>({ error: 'not a number' })
    .min(0)
    .max(1)
    .default(1)
    .describe('the ratio of the traceidratio samplers (0 to 1)'),
  OTEL_BSP_SCHEDULE_DELAY: positive(5000).describe('ms between two exports of the batch span processor'),
  OTEL_BSP_EXPORT_TIMEOUT: positive(30_000).describe('ms an export may take before it is abandoned'),
  OTEL_BSP_MAX_QUEUE_SIZE: positive(2048).describe('spans kept waiting for export; past it new spans are dropped (never a request)'),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: positive(512).describe('spans per export'),
};

type OtelConfig = z.output<z.ZodObject<typeof otelConfigFields>>;

export interface TracingSettings {
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  headers: Record<string, string>;
  serviceName: string;
  attributes: Record<string, string>;
  sampler: OtelConfig['OTEL_TRACES_SAMPLER'];
  ratio: number;
  batch: { scheduledDelayMillis: number; exportTimeoutMillis: number; maxQueueSize: number; maxExportBatchSize: number };
}

/** `a=b,c=d` (values percent-encoded, as the specification says) → an object; a malformed entry is skipped. */
function pairs(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (text ?? '').split(',')) {
    const at = item.indexOf('=');
    if (at <= 0) continue;
    try {
      out[item.slice(0, at).trim()] = decodeURIComponent(item.slice(at + 1).trim());
    } catch {
      // Not percent-decodable: skipped, like the SDK's own parser.
    }
  }
  return out;
}

/**
 * What the OTEL_* variables ask for; undefined when tracing is off (the default: nothing is loaded then).
 * `roles`: the roles this process runs, `all`: whether that is every role (then the service is plain `cantons`).
 */
export function tracingSettings(config: OtelConfig, roles: string[], all: boolean): TracingSettings | undefined {
  if (config.OTEL_SDK_DISABLED === 'true' || config.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const endpoint = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint && config.OTEL_TRACES_EXPORTER !== 'otlp') return undefined;
  const url = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${(config.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`;
  return {
    url,
    protocol: config.OTEL_EXPORTER_OTLP_PROTOCOL,
    headers: pairs(config.OTEL_EXPORTER_OTLP_HEADERS),
    serviceName: config.OTEL_SERVICE_NAME ?? (all ? 'cantons' : `cantons:${roles.join(',')}`),
    attributes: { ...pairs(config.OTEL_RESOURCE_ATTRIBUTES), 'cantons.roles': roles.join(',') },
    sampler: config.OTEL_TRACES_SAMPLER,
    ratio: config.OTEL_TRACES_SAMPLER_ARG,
    batch: {
      scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY,
      exportTimeoutMillis: config.OTEL_BSP_EXPORT_TIMEOUT,
      maxQueueSize: config.OTEL_BSP_MAX_QUEUE_SIZE,
      maxExportBatchSize: Math.min(config.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, config.OTEL_BSP_MAX_QUEUE_SIZE),
    },
  };
}
