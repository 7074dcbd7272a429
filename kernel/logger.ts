// Structured logs (pino) with secrets redacted wherever they appear in a logged object or error;
// JSON lines for machines, or pino-pretty's human-readable lines on a terminal.
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import { logFields } from './tracing/index.ts';

export type { Logger };

const SECRET_KEYS = [
  'password',
  'secret',
  'token',
  'authorization',
  'cookie',
  'DATABASE_URL',
  'EVENT_BUS_URL',
  'REDIS_URL',
  'ETCD_PASSWORD',
  'SMTP_URL',
  'RPC_TOKEN',
  'API_KEYS',
  'rpcToken',
  'apiKeys',
  'OTEL_EXPORTER_OTLP_HEADERS',
];

// `scheme://user:password@host` anywhere in a string: the password goes, the rest stays for the reader.
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]+@/gi;

/** `redis://:pw@h`, `postgres://u:pw@h/db` inside any text → `…:***@…`. */
export const redactText = (text: string): string => text.replace(URL_CREDENTIALS, '$1:***@');

/**
 * pino's error serializer, then: ioredis puts the failed command on its ReplyError (`command.args` of a
 * failed AUTH is the Redis password), and a client library may quote a URL with its password in a
 * message — neither survives into a log line. Walks `cause` and nested objects (a depth cap keeps cycles out).
 */
export function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error);
  return scrub(out, 0);
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'command' && v && typeof v === 'object' && 'args' in v) out[k] = { ...(v as object), args: '[redacted]' };
    else out[k] = scrub(v, depth + 1);
  }
  return out;
}

/** LOG_FORMAT: `auto` is pretty when stdout is a terminal (a person reads it), JSON otherwise (a collector does). */
export type LogFormat = 'auto' | 'pretty' | 'json';

/**
 * Pretty lines are a stream in this thread, not a worker transport: its `sync` writes keep the lines logged just
 * before `process.exit` (shutdown). They are made from the JSON line, after redaction, so secrets stay out too.
 */
function prettyStream(destination?: pino.DestinationStream): pino.DestinationStream {
  // Loaded only here: pino-pretty costs ≈45 ms of start-up that a server logging JSON never needs.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pretty({ sync: true, destination, colorize: !destination && process.stdout.isTTY, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' });
}

/** A logger at `level`; `destination` (default stdout) receives JSON lines, or pretty ones when `format` says so. */
export function createLogger(level: string, destination?: pino.DestinationStream, format: LogFormat = 'json'): Logger {
  const asPretty = format === 'pretty' || (format === 'auto' && !destination && process.stdout.isTTY);
  const paths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `req.headers.${k}`]);
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      // trace_id and span_id on every line written inside a span (nothing when tracing is off).
      mixin: logFields,
      // A message built from a library's error text (`connect failed: ${err.message}`) is scrubbed too.
      hooks: {
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = redactText(args[i] as string);
          return method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    asPretty ? prettyStream(destination) : destination,
  );
}
