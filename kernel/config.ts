// Configuration: zod schemas over the environment (and .env), every problem reported at once.
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { otelConfigFields } from './tracing/config.ts';

export type Env = Record<string, string | undefined>;

/**
 * An integer read from the environment. `NAME=` (empty, e.g. a `.env` line left blank) is an error, not 0:
 * coercion alone reads '' as 0, and `PORT=` then listened on a random port without a word.
 */
const envIntValue = (min: number, max: number, unset: string) =>
  z
    .string()
    .trim()
    .min(1, `empty; give a number or leave it unset (${unset})`)
    .pipe(z.coerce.number<string>({ error: 'not a number' }).int().min(min).max(max));

/** An integer setting with a default: `envInt(8080, 1, 65535)`. The one int helper of every config.ts. */
export const envInt = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => envIntValue(min, max, `default ${def}`).default(def);

/** A comma-separated setting (API_KEYS, CORS_ORIGINS, ALLOWED_HOSTS) as a list: trimmed, empty entries dropped. */
export const listOf = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export const kernelConfigSchema = z
  .object({
    PORT: envInt(8080, 0, 65535).describe('HTTP port (0: any free port, named in the start-up line)'),
    HOST: z.string().min(1).default('127.0.0.1').describe('interface to listen on (0.0.0.0 for every interface)'),
    DATA_DIR: z.string().min(1).default('data').describe('directory of the SQLite files, one per module'),
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/ })
      .optional()
      .describe('Postgres URL; every module then gets a schema of its own instead of a SQLite file'),
    EVENT_BUS_URL: z
      .url({ protocol: /^rediss?$/ })
      .optional()
      .describe('redis:// URL: events travel over Redis Streams instead of the in-process bus'),
    MODULES: z.string().optional().describe('comma-separated modules or module.role names; default every module'),
    LOG_LEVEL: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info')
      .describe('pino log level; one access line per request is info (/healthz, /readyz, /metrics: debug)'),
    LOG_FORMAT: z
      .enum(['auto', 'pretty', 'json'])
      .default('auto')
      .describe('log lines as JSON, or human-readable (pretty); auto: pretty when stdout is a terminal, JSON otherwise'),
    BODY_LIMIT: envInt(1024 * 1024, 1).describe('largest request body in bytes (413 past it)'),
    SHUTDOWN_TIMEOUT_MS: envInt(10_000, 1).describe('budget for draining on SIGTERM/SIGINT before exiting 1'),
    DB_CONNECT_ATTEMPTS: envInt(6, 1).describe('Postgres connect attempts before start-up fails'),
    DB_CONNECT_BASE_MS: envInt(1000, 1).describe('first retry delay; the n-th is base·e^n, jittered (1, 2.7, 7.4, 20, 54 s)'),
    DB_CONNECT_MAX_MS: envInt(54_000, 1).describe('cap of one connect retry delay'),
    RPC_TIMEOUT_MS: envInt(5000, 1).describe('timeout of one call to a role in another process'),
    RPC_RETRIES: envInt(3).describe('retries (jittered exponential) of idempotent calls to another process'),
    BUS_MAX_ATTEMPTS: envInt(5, 1).describe('attempts of an event handler before its event is dead-lettered'),
    BUS_RETRY_BASE_MS: envInt(100, 1).describe('first handler retry delay (doubles, jittered)'),
    BUS_STREAM_PREFIX: z
      .string()
      .regex(/^[\w:.-]+$/)
      .default('cantons')
      .describe('Redis Streams key prefix (one per deployment)'),
    BUS_POLL_MS: envInt(200, 1).describe('how often the relay looks for outbox rows it was not told about'),
    BUS_INLINE: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true')
      .describe(
        "in-process bus: apply an event whose subscribers share its publisher's database in the publishing transaction (false: every event through the outbox and the relay)",
      ),
    BUS_EPHEMERAL_REDIS: z
      .enum(['refuse', 'warn', 'accept'])
      .default('warn')
      .describe(
        'an EVENT_BUS_URL Redis without appendonly (a restart loses the events it holds): refuse (start-up fails, nothing is relayed to it), warn (an error line at start and each reconnect) or accept',
      ),
    // The public port (docs/security.md): credentials, origins, hosts.
    RPC_TOKEN: z
      .string()
      .min(16, 'RPC_TOKEN needs at least 16 characters')
      .optional()
      .describe(
        'secret; the credential of calls between processes: /rpc answers only `Authorization: Bearer <RPC_TOKEN>`, the HTTP transport sends it; required to serve roles to other processes on a non-loopback HOST',
      ),
    API_KEYS: z
      .string()
      .optional()
      .refine((v) => v === undefined || listOf(v).every((k) => k.length >= 16), 'each API key needs at least 16 characters')
      .describe(
        'secret; comma-separated API keys: every module route then needs `Authorization: Bearer <key>` or `X-API-Key: <key>` (401 otherwise); /healthz and /readyz stay open',
      ),
    RPC_PORT: envIntValue(0, 65535, 'then /rpc is on PORT')
      .optional()
      .describe(
        'port of an internal listener that alone serves /rpc (calls between processes; point the role URLs of its callers at it); unset: /rpc is on PORT',
      ),
    RPC_HOST: z.string().min(1).optional().describe('interface of the RPC_PORT listener; default HOST'),
    CORS_ORIGINS: z
      .string()
      .optional()
      .describe('comma-separated origins (`https://app.example.com`) whose pages may call the API from a browser; none by default'),
    ALLOWED_HOSTS: z.string().optional().describe('comma-separated host names the Host header must name (421 otherwise), against DNS rebinding; default any'),
    // The console (kernel/console/, docs/console.md): served on a loopback HOST, or anywhere once it has a token.
    CONSOLE_TOKEN: z
      .string()
      .min(16, 'CONSOLE_TOKEN needs at least 16 characters')
      .optional()
      .describe(
        'secret; the /console login (asked once by a form, kept as an HttpOnly SameSite=Strict cookie); unset, the console is served only on a loopback HOST, to loopback host names',
      ),
    CONSOLE_TRACES: envInt(100, 0, 10_000).describe('traces the console holds in memory when tracing is on (OTEL_*), newest kept; 0: none'),
    // gRPC (kernel/transport/grpc-*.ts): the server runs in a process whose roles' contracts have a .proto.
    GRPC_HOST: z
      .string()
      .min(1)
      .optional()
      .describe(
        'interface the gRPC server listens on; default HOST where start-up accepts gRPC off loopback (TLS or GRPC_INSECURE, and GRPC_TLS_CA_FILE or RPC_TOKEN), else 127.0.0.1',
      ),
    GRPC_PORT: envInt(9090, 0, 65535).describe("gRPC port (the original threads service's)"),
    GRPC_TLS_CERT_FILE: z.string().min(1).optional().describe('PEM certificate chain: the gRPC server serves TLS with it; a client presents it for mutual TLS'),
    GRPC_TLS_KEY_FILE: z.string().min(1).optional().describe('PEM private key of GRPC_TLS_CERT_FILE'),
    GRPC_TLS_CA_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('PEM CA: the server then requires client certificates it signed; clients verify grpcs:// servers with it'),
    GRPC_TLS_SERVER_NAME: z.string().min(1).optional().describe("name to verify in a grpcs:// server's certificate instead of the URL's host"),
    GRPC_INSECURE: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true')
      .describe('allow plaintext gRPC on a non-loopback address'),
    GRPC_KEEPALIVE_MS: envInt(30_000, 1000).describe('gRPC keepalive ping period on idle connections'),
    // OpenTelemetry tracing (kernel/tracing/): off unless an OTLP exporter or endpoint is named.
    ...otelConfigFields,
  })
  .refine((c) => !c.GRPC_TLS_CERT_FILE === !c.GRPC_TLS_KEY_FILE, {
    path: ['GRPC_TLS_KEY_FILE'],
    message: 'GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE go together',
  })
  // The image sets HOST=0.0.0.0 for every process: gRPC follows it only where a channel (TLS, or plaintext allowed) and a
  // credential (client certificates, or the token) make that safe, so `docker run` starts and compose's threads is reached.
  .transform((c) => {
    const safe = Boolean(c.GRPC_TLS_CERT_FILE || c.GRPC_INSECURE) && Boolean((c.GRPC_TLS_CERT_FILE && c.GRPC_TLS_CA_FILE) || c.RPC_TOKEN);
    return { ...c, GRPC_HOST: c.GRPC_HOST ?? (safe ? c.HOST : '127.0.0.1') };
  });
export type KernelConfig = z.infer<typeof kernelConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** A deployment that cannot start as configured (roles unreachable, a port taken, an unsafe exposure): each problem a line. */
export class StartupError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'StartupError';
  }
}

/** The environment variable names a config schema reads. */
export function configKeys(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: object };
  return Object.keys(json.properties ?? {});
}

/**
 * The process environment, with `.env` (when present) filling what the environment leaves unset,
 * and `NAME_FILE` read into `NAME` for every config variable `NAME` (secrets mounted as files).
 */
export function readEnv(env: Env, names: Iterable<string>, dotenvPath = '.env'): Env {
  const merged: Env = { ...env };
  if (existsSync(dotenvPath)) {
    // Node's own dotenv parser (what `node --env-file` reads): comments after values, quotes, `export`, multi-line values.
    for (const [name, value] of Object.entries(parseEnv(readFileSync(dotenvPath, 'utf8')))) {
      if (merged[name] === undefined) merged[name] = value;
    }
  }
  const problems: string[] = [];
  for (const name of names) {
    const path = merged[`${name}_FILE`];
    if (!path || merged[name] !== undefined) continue;
    try {
      merged[name] = readFileSync(path, 'utf8').trim();
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return merged;
}

/** Parses each named schema against the same environment; throws one ConfigError listing every problem. */
export function parseConfig<S extends Record<string, z.ZodType>>(schemas: S, env: Env): { [K in keyof S]: z.output<S[K]> } {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const result = schema.safeParse(env);
    if (result.success) out[name] = result.data;
    else for (const issue of result.error.issues) problems.push(`${issue.path.join('.') || name}: ${issue.message}`);
  }
  if (problems.length) throw new ConfigError(problems);
  return out as { [K in keyof S]: z.output<S[K]> };
}

/**
 * `http://host:port` of a listener for a reader on this machine: a wildcard HOST (every interface) is
 * reached on loopback, an IPv6 address goes in brackets.
 */
export function localUrl(host: string, port: number): string {
  const name = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for log lines and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}
