// Configuration: zod schemas over the environment (and .env), every problem reported at once.
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

export type Env = Record<string, string | undefined>;

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

export const kernelConfigSchema = z.object({
  PORT: int(8080).pipe(z.number().max(65535)),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional()
    .describe('Postgres URL; every module then gets a schema of its own instead of a SQLite file'),
  EVENT_BUS_URL: z.url({ protocol: /^rediss?$/ }).optional()
    .describe('redis:// URL: events travel over Redis Streams instead of the in-process bus'),
  MODULES: z.string().optional().describe('comma-separated modules or module.role names; default every module'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  BODY_LIMIT: int(1024 * 1024, 1),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 1),
  DB_CONNECT_ATTEMPTS: int(6, 1),
  DB_CONNECT_BASE_MS: int(1000, 1),
  DB_CONNECT_MAX_MS: int(54_000, 1),
  RPC_TIMEOUT_MS: int(5000, 1),
  RPC_RETRIES: int(3),
  BUS_MAX_ATTEMPTS: int(5, 1),
  BUS_RETRY_BASE_MS: int(100, 1),
  BUS_STREAM_PREFIX: z.string().regex(/^[\w:.-]+$/).default('cantons').describe('Redis Streams key prefix (one per deployment)'),
  BUS_POLL_MS: int(200, 1),
});
export type KernelConfig = z.infer<typeof kernelConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
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
    for (const line of readFileSync(dotenvPath, 'utf8').split(/\r?\n/)) {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
      if (!m || line.trimStart().startsWith('#')) continue;
      const value = m[2].replace(/^(['"])(.*)\1$/, '$2');
      if (merged[m[1]] === undefined) merged[m[1]] = value;
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
export function parseConfig<S extends Record<string, z.ZodType>>(
  schemas: S,
  env: Env,
): { [K in keyof S]: z.output<S[K]> } {
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
