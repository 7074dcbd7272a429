// The benchmark module's settings: secrets, reports, the target client, the built-in target, notifications.
import { z } from 'zod';
import { envInt as int } from '../../kernel/config.ts';
import { DEFAULT_MAX_DOCUMENTS, MAX_DOCUMENTS } from './contract.ts';
import { targetListProblems } from './target-policy.ts';

const share = z.coerce.number().min(0).max(1).default(0);

/** "1000-5000" (uniform in the range) or "250" (fixed), in milliseconds. */
const delayRange = z
  .string()
  .regex(/^\d+(-\d+)?$/, 'must be milliseconds, fixed (250) or a range (1000-5000)')
  .default('1000-5000')
  .transform((s) => {
    const [min, max = min] = s.split('-').map(Number);
    return { min: Math.min(min, max), max: Math.max(min, max) };
  });

export const benchmarkConfigSchema = z.object({
  BENCHMARK_SECRET_KEY: z
    .string()
    .regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes as 64 hex digits or base64')
    .optional()
    .describe(
      'secret; AES-256-GCM key for target passwords at rest; default a key file generated under DATA_DIR (set it when several processes share a database)',
    ),
  BENCHMARK_REPORTS_DIR: z.string().min(1).optional().describe('where report files are written, one name per benchmark; default DATA_DIR/reports'),
  BENCHMARK_TIMEOUT_SECONDS: int(3600, 1).describe('default timeout_seconds: a document without both callbacks by then fails the benchmark'),
  BENCHMARK_SWEEP_MS: int(1000, 10).describe('how often running benchmarks are checked against their timeout'),
  BENCHMARK_HTTP_TIMEOUT_MS: int(10_000, 1).describe('timeout of one request to a target'),
  BENCHMARK_HTTP_RETRIES: int(2).describe('retries (jittered) of a target request that failed or answered 5xx'),
  BENCHMARK_MAX_DOCUMENTS: int(DEFAULT_MAX_DOCUMENTS, 1, MAX_DOCUMENTS).describe(
    `most documents one benchmark may have (documents.count; more is 422 naming it); at most ${MAX_DOCUMENTS.toLocaleString('en')}, what the scale bench measures`,
  ),
  BENCHMARK_UPLOAD_BATCH: int(50, 1).describe('most documents in one multipart upload request'),
  BENCHMARK_TARGETS: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      for (const problem of v === undefined ? [] : targetListProblems(v)) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe(
      'comma-separated hosts, host:port pairs, addresses or CIDR ranges a target_url may reach (checked on the address connected to); default this process, plus any loopback address when HOST is loopback; metadata and link-local addresses only when named',
    ),
  BENCHMARK_HTTP_PER_TARGET: int(8, 1).describe('most requests under way at once to one target host:port (a hanging target fills only its own)'),
  BENCHMARK_HTTP_CONCURRENCY: int(64, 1).describe('most requests under way at once to all targets'),
  SMTP_URL: z
    .url({ protocol: /^smtps?$/ })
    .optional()
    .describe('secret; smtp:// or smtps:// URL: reports are emailed; unset, the notification is logged'),
  BENCHMARK_MAIL_FROM: z.string().min(3).default('benchmarks@cantons.local').describe('From address of report emails'),
  BENCHMARK_NOTIFY_TO: z.string().optional().describe('comma-separated recipients when a benchmark names no notify list'),
  BENCHMARK_SMTP_TIMEOUT_MS: int(10_000, 1).describe('connect and answer timeout of the SMTP server'),
  BENCHMARK_MAIL_RETRY_MS: int(3600_000, 1).describe(
    'how long a report email is retried (backoff from 1 s to 5 min) before it becomes a dead letter (`npm run dead-letters -- replay` sends it)',
  ),
  BENCHMARK_TARGET_PREFIX: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)*$/, 'must be empty or a path like /target')
    .optional()
    .describe('where benchmark.target is mounted; default /target, empty when the target runs alone'),
  BENCHMARK_CALLBACK_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('base URL the built-in target calls back; default the origin the upload was sent to (this process)'),
  // API_KEYS on this process (docs/benchmark.md, "API keys"): the module's calls to itself need a key too.
  BENCHMARK_TARGET_API_KEY: z
    .string()
    .min(16, 'an API key has at least 16 characters')
    .optional()
    .describe(
      "secret; X-API-Key sent to every target (a built-in target behind API_KEYS in another process); default the first of API_KEYS, sent only to a target at this process's own address",
    ),
  BENCHMARK_CALLBACK_API_KEY: z
    .string()
    .min(16, 'an API key has at least 16 characters')
    .optional()
    .describe(
      "secret; built-in target: X-API-Key sent with its callbacks; default the key the upload carried when calling back the upload's origin, the first of API_KEYS when BENCHMARK_CALLBACK_URL is this process",
    ),
  BENCHMARK_TARGET_DELAY_MS: delayRange.describe('built-in target: processing time per document in ms, fixed (250) or a range (1000-5000)'),
  BENCHMARK_TARGET_CONCURRENCY: int(8, 1).describe('built-in target: documents processed at once'),
  BENCHMARK_TARGET_FAULT_SILENT: share.describe('built-in target: share of documents that never call back (0–1)'),
  BENCHMARK_TARGET_FAULT_ERROR: share.describe('built-in target: share of upload requests answered 500 (0–1)'),
  BENCHMARK_TARGET_PASSWORD: z.string().min(1).optional().describe('secret; built-in target: the only password its login accepts; default any'),
  BENCHMARK_TARGET_SESSION_MS: int(3600_000, 1).describe('built-in target: session cookie lifetime; past it requests get 401 "Token has expired."'),
});
export type BenchmarkConfig = z.output<typeof benchmarkConfigSchema>;
