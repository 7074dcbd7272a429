// The benchmark module's boundary: its commands and events as data (the original's names), their payload schemas, the API bodies.
import { z } from 'zod';
import { defineTopic } from '../../kernel/contract.ts';

/**
 * Commands are handled once, synchronously, by the role that receives them (the answer goes back to
 * the caller); events go through the outbox to every subscriber. Names are the original's channels.
 */
export const COMMANDS = {
  CreateBenchmark: 'create_benchmark',
  UpdateDocument: 'update_document',
} as const;

/** Every event names its benchmark and nothing secret: handlers read the rest from the database. */
export const benchmarkEventSchema = z.object({ benchmark_id: z.uuid() });
export type BenchmarkEvent = z.infer<typeof benchmarkEventSchema>;
/** The documents of one benchmark that got their upload time in one committed batch of callbacks. */
export const documentUpdatedSchema = benchmarkEventSchema.extend({ document_names: z.array(z.string()).min(1) });
export const errorOccurredSchema = benchmarkEventSchema.extend({ reason: z.string() });

/** The flow's events, by the original's names: each a bus topic with its payload. */
export const EVENTS = {
  BenchmarkCreated: defineTopic('benchmark.benchmark_created', benchmarkEventSchema),
  ProjectCreated: defineTopic('benchmark.project_created', benchmarkEventSchema),
  DocumentUpdated: defineTopic('benchmark.document_updated', documentUpdatedSchema),
  AllDocumentsUploaded: defineTopic('benchmark.all_documents_uploaded', benchmarkEventSchema),
  ErrorOccurred: defineTopic('benchmark.error_occurred', errorOccurredSchema),
  ReportCompleted: defineTopic('benchmark.report_completed', benchmarkEventSchema),
};

/** The only benchmark type the original implements. */
export const BENCHMARK_TYPES = ['latency'] as const;

const text = (max: number) => z.string().trim().min(1).max(max);
// "host:port" as the original sent it, or a full http(s) URL with an optional path (the built-in target's /target).
const targetUrl = text(2000).refine((s) => {
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `http://${s}`);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !u.search && !u.hash && !u.username;
  } catch {
    return false;
  }
}, 'must be host:port or an http(s) URL without query, fragment or credentials');

/**
 * The most documents one benchmark may have, whatever BENCHMARK_MAX_DOCUMENTS says (its default is 1,000): what
 * `npm run bench -- scale` measures (one benchmark of 10,000 on the built-in target). Nothing past it is tested.
 */
export const MAX_DOCUMENTS = 10_000;
/** BENCHMARK_MAX_DOCUMENTS when unset: the most documents a benchmark had before it was a setting. */
export const DEFAULT_MAX_DOCUMENTS = 1000;
export const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;
/** What one benchmark may upload in all: a start request must not be a way to make us send gigabytes. */
export const MAX_BENCHMARK_BYTES = 256 * 1024 * 1024;
/** Most bytes in one upload request (the built-in target takes up to 64 MiB). */
export const MAX_UPLOAD_REQUEST_BYTES = 32 * 1024 * 1024;

/** The start body, refusing more than `maxDocuments` documents (BENCHMARK_MAX_DOCUMENTS) with 422 naming documents.count. */
export const startBodySchemaFor = (maxDocuments: number) =>
  z.strictObject({
    name: text(200),
    benchmark_type: z.enum(BENCHMARK_TYPES),
    target_infra: text(200),
    target_url: targetUrl,
    target_eigen_platform_version: text(100),
    username: text(200),
    password: z.string().min(1).max(1000),
    documents: z
      .strictObject({
        count: z
          .int()
          .min(1)
          .max(Math.min(maxDocuments, MAX_DOCUMENTS), `at most ${Math.min(maxDocuments, MAX_DOCUMENTS)} documents (BENCHMARK_MAX_DOCUMENTS)`),
        size_bytes: z.int().min(1).max(MAX_DOCUMENT_BYTES).default(1024),
      })
      .refine((d) => d.count * d.size_bytes <= MAX_BENCHMARK_BYTES, {
        message: `count × size_bytes must be at most ${MAX_BENCHMARK_BYTES} bytes`,
        path: ['size_bytes'],
      })
      .optional(),
    notify: z.array(z.email()).min(1).max(50).optional(),
    timeout_seconds: z
      .number()
      .positive()
      .max(7 * 24 * 3600)
      .optional(),
    thresholds: z
      .strictObject({
        p95_seconds: z.number().nonnegative().optional(),
        max_seconds: z.number().nonnegative().optional(),
        max_failed: z.int().min(0).optional(),
      })
      .optional(),
    baseline_id: z.uuid().optional(),
  });
/** The start body at the default BENCHMARK_MAX_DOCUMENTS. */
export const startBodySchema = startBodySchemaFor(DEFAULT_MAX_DOCUMENTS);
export type StartBody = z.infer<typeof startBodySchema>;

const epochSeconds = z.number().finite().min(0).max(32503680000).nullable();
// The target's ids arrive as strings in the original (a form field) and as numbers from other clients.
const idText = z.union([z.string().min(1).max(200), z.number().int()]).transform(String);

export const callbackBodySchema = z
  .object({
    document_name: z.string().min(1).max(500),
    eigen_document_id: idText,
    eigen_project_id: idText,
    benchmark_host_name: text(300),
    start_time: epochSeconds.default(null),
    end_time: epochSeconds.default(null),
  })
  .refine((b) => b.start_time !== null || b.end_time !== null, { message: 'start_time or end_time is required', path: ['start_time'] });
export type CallbackBody = z.infer<typeof callbackBodySchema>;

export const summarySchema = z.object({
  count: z.int(),
  completed: z.int(),
  failed: z.int(),
  min: z.number().nullable(),
  mean: z.number().nullable(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
  max: z.number().nullable(),
  throughput_per_second: z.number().nullable().describe('completed documents ÷ wall time'),
  wall_seconds: z.number().nullable().describe('first start_time to last end_time'),
});
export type Summary = z.infer<typeof summarySchema>;

export const documentViewSchema = z.object({
  name: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  upload_seconds: z.number().nullable(),
});

export const benchmarkViewSchema = z.object({
  benchmark_id: z.string(),
  name: z.string(),
  benchmark_type: z.string(),
  target_infra: z.string(),
  target_url: z.string(),
  target_eigen_platform_version: z.string(),
  project_id: z.string().nullable().describe('the target project (document_type_id) its callbacks name'),
  uploaded_at: z.string().nullable().describe('when the target accepted the last upload'),
  status: z.enum(['running', 'completed', 'failed']),
  error: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  progress: z.object({ done: z.int(), total: z.int() }),
  documents: z.array(documentViewSchema),
  summary: summarySchema.nullable(),
  thresholds: z.enum(['passed', 'failed']).nullable(),
});
export type BenchmarkView = z.infer<typeof benchmarkViewSchema>;
