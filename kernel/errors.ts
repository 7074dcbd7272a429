// The error catalogue: one error class, codes declared per module, one JSON body shape on the wire.

/** Every error a client may see: `{"error": code, "message": message}` with `status` as HTTP status. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  toBody(): { error: string; message: string; details?: unknown } {
    return this.details === undefined ? { error: this.code, message: this.message } : { error: this.code, message: this.message, details: this.details };
  }
}

export interface CatalogueEntry {
  status: number;
  description: string;
}

/** All codes declared by the kernel and by every module imported so far (docs/errors.md lists them). */
export const catalogue = new Map<string, CatalogueEntry & { owner: string }>();

type Factories<T> = { [K in keyof T]: (message: string, details?: unknown) => AppError };

/**
 * Declares a module's error codes once and returns a factory per code:
 * `const errors = defineErrors('shop', { PRODUCT_NOT_FOUND: { status: 404, description } })`
 * then `throw errors.PRODUCT_NOT_FOUND('Product ID x does not exist')`.
 */
export function defineErrors<T extends Record<string, CatalogueEntry>>(owner: string, entries: T): Factories<T> {
  const factories = {} as Record<string, (message: string, details?: unknown) => AppError>;
  for (const [code, entry] of Object.entries(entries)) {
    const known = catalogue.get(code);
    if (known && known.status !== entry.status) {
      throw new Error(`error code ${code} declared by ${owner} with status ${entry.status}, by ${known.owner} with ${known.status}`);
    }
    if (!known) catalogue.set(code, { ...entry, owner });
    factories[code] = (message, details) => new AppError(code, entry.status, message, details);
  }
  return factories as Factories<T>;
}

export const errors = defineErrors('kernel', {
  BAD_REQUEST: { status: 400, description: 'The request body is not valid JSON, or the request is malformed (HTTP framing, headers, no Host).' },
  VALIDATION_ERROR: { status: 400, description: 'The body, query or path failed validation; `details` names each field.' },
  UNPROCESSABLE_ENTITY: {
    status: 422,
    description:
      "VALIDATION_ERROR on a route whose original (FastAPI) clients expect 422: the benchmark API's start and callback routes; `details` names each field.",
  },
  UNAUTHORIZED: {
    status: 401,
    description:
      'API_KEYS is set and the request carries no valid key (`Authorization: Bearer <key>` or `X-API-Key`), or an internal /rpc call lacks RPC_TOKEN.',
  },
  CROSS_ORIGIN_REQUEST: {
    status: 403,
    description:
      'A browser page on another origin tried to write (`Sec-Fetch-Site: cross-site` or `same-site`, or an `Origin` that is neither this host nor in CORS_ORIGINS); nothing changed.',
  },
  NOT_FOUND: { status: 404, description: 'No route matches this path.' },
  METHOD_NOT_ALLOWED: { status: 405, description: 'The path exists but not for this HTTP method (the `Allow` header lists those it has).' },
  REQUEST_TIMEOUT: { status: 408, description: 'The request line, headers or body did not arrive in time.' },
  EXPECTATION_FAILED: { status: 417, description: 'The request has an `Expect` header other than `100-continue`.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body is larger than the limit (BODY_LIMIT, 1 MiB by default).' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The body declares a charset other than UTF-8 in its Content-Type; bodies are UTF-8 JSON.' },
  MISDIRECTED_REQUEST: {
    status: 421,
    description:
      'ALLOWED_HOSTS is set and the Host header names none of them, or /console without CONSOLE_TOKEN was asked for under a name that is not loopback (DNS rebinding).',
  },
  HEADERS_TOO_LARGE: { status: 431, description: "The request line or headers exceed the server's limit." },
  NOT_READY: { status: 503, description: 'The process is starting (a database is still connecting) or shutting down.' },
  ROLE_UNAVAILABLE: {
    status: 503,
    description:
      'A role this request needs runs in another process that did not answer: refused, reset, past the deadline, or refused for a moment while it keeps failing (circuit open) or has too many calls waiting on it. Retry later.',
  },
  ROLE_INVALID_ANSWER: {
    status: 502,
    description:
      "A role in another process answered outside its contract (an answer that does not parse or lacks what it promises, or UNIMPLEMENTED: a server that is not cantons'). What the call did there is unknown.",
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    description: 'A backing service (Postgres, Redis, etcd …) is unreachable or refused us; nothing is known to have changed. Retry later.',
  },
  UNEXPECTED_ERROR: { status: 500, description: 'A bug or an unexpected failure; details are in the log under the request id.' },
});

/** Maps a thrown value from a library (koa, http-errors) to an AppError when it is a client error. */
export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const e = err as { status?: number; expose?: boolean; message?: string; type?: string };
  if (typeof e?.status !== 'number' || e.status < 400 || e.status >= 500) return undefined;
  const byStatus: Record<number, (m: string) => AppError> = {
    401: errors.UNAUTHORIZED,
    404: errors.NOT_FOUND,
    405: errors.METHOD_NOT_ALLOWED,
    413: errors.PAYLOAD_TOO_LARGE,
    415: errors.UNSUPPORTED_MEDIA_TYPE,
  };
  return (byStatus[e.status] ?? errors.BAD_REQUEST)(e.expose && e.message ? e.message : 'Bad request');
}

// Socket-level failures: the peer is gone or unreachable. ECONNRESET from a client is told apart before (kernel/http/app.ts).
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ESOCKETTIMEDOUT',
]);
// Postgres SQLSTATEs of "the server, not the statement": connection (08), resources (53), operator intervention (57P),
// authentication (28), and no such database (3D000).
const PG_STATE = /^(08|53|57P|28|3D000|58)/;
// Redis replies that mean "this server will not serve us now" (ioredis ReplyError), not "your command is wrong".
const REDIS_REPLY = /^(WRONGPASS|NOAUTH|LOADING|MASTERDOWN|BUSY |CLUSTERDOWN|TRYAGAIN|READONLY|MISCONF|OOM)/;
// Messages of client libraries whose errors carry no code: pg, pg-pool, ioredis, etcd3, better-sqlite3.
const MESSAGES =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Connection is closed|Reached the max retries per request limit|Stream isn't writeable|connect ECONNREFUSED|getaddrinfo|write EPIPE|read ECONNRESET|Failed to connect|No connection established|Cannot call write after a stream was destroyed|This socket has been ended by the other party|The database connection is not open|Pool is draining)/;
const ERROR_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'GRPCConnectFailedError',
  'GRPCUnavailableError',
  'GRPCDeadlineExceededError',
  'ClientRuntimeError',
  'BrokenCircuitError',
  'TaskCancelledError',
]);
const SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL)/;

/**
 * True when `err` (or an error in its `cause` chain) says a backing service failed — Postgres gone or
 * refusing us, Redis WRONGPASS/NOAUTH, ECONNREFUSED …: the request is then 503 SERVICE_UNAVAILABLE, not
 * a bug, so clients and load balancers can tell the two apart.
 */
export function isDependencyFailure(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown; errors?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e !== 'object') return false;
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    if (NETWORK_CODES.has(code) || SQLITE_CODES.test(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && PG_STATE.test(code)) return true;
    if (e.name === 'ReplyError' && REDIS_REPLY.test(message)) return true;
    if (typeof e.name === 'string' && ERROR_NAMES.has(e.name)) return true;
    if (MESSAGES.test(message)) return true;
    // AggregateError (net's happy eyeballs: one ECONNREFUSED per address).
    if (Array.isArray(e.errors) && e.errors.length && e.errors.every((x) => isDependencyFailure(x))) return true;
  }
  return false;
}
