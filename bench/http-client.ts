// A tiny JSON HTTP client over a keep-alive connection pool, reporting every request to a recorder.
import { ConnectionPool } from './connection-pool.ts';

export interface RequestOptions {
  /** Label the latency is recorded under; default `METHOD /path` with numeric and uuid segments as `:id`. */
  step?: string;
  headers?: Record<string, string>;
  /** Statuses that count as success; default any 2xx. */
  expect?: number | readonly number[];
  /** Default true: an unexpected status throws HttpStatusError (already counted, so never twice). */
  throwOnError?: boolean;
  timeoutMs?: number;
}

export interface HttpResponse<T = any> {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON when the response says JSON, else the text (undefined when empty). */
  body: T;
  text: string;
  latencyMs: number;
  /** Whether the status was expected. */
  ok: boolean;
}

/** Where a client reports each finished request. */
export interface RequestRecorder {
  response(step: string, latencyMs: number, status: number, ok: boolean, body: unknown): void;
  networkError(step: string, error: Error): void;
}

export interface HttpClient {
  readonly baseUrl: string;
  request<T = any>(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<HttpResponse<T>>;
  get<T = any>(path: string, opts?: RequestOptions): Promise<HttpResponse<T>>;
  post<T = any>(path: string, body?: unknown, opts?: RequestOptions): Promise<HttpResponse<T>>;
  put<T = any>(path: string, body?: unknown, opts?: RequestOptions): Promise<HttpResponse<T>>;
  delete<T = any>(path: string, opts?: RequestOptions): Promise<HttpResponse<T>>;
}

export interface ClientOptions {
  /** Connections to reuse (and leave open); default: the client's own, unbounded, idle ones unref'd. */
  pool?: ConnectionPool;
  recorder?: RequestRecorder;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Marks errors the recorder has already counted, so a step that lets them escape is not counted again. */
export const COUNTED = Symbol('bench.counted');

export class HttpStatusError extends Error {
  readonly [COUNTED] = true;
  constructor(
    readonly step: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${step}: unexpected status ${status}${describeBody(body)}`);
    this.name = 'HttpStatusError';
  }
}

export class NetworkError extends Error {
  readonly [COUNTED] = true;
  constructor(
    readonly step: string,
    readonly code: string,
    message: string,
  ) {
    super(`${step}: ${code} ${message}`);
    this.name = 'NetworkError';
  }
}

function describeBody(body: unknown): string {
  if (body && typeof body === 'object' && 'error' in body) return ` ${String((body as { error: unknown }).error)}`;
  return '';
}

const ID_SEGMENT = /^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

export function defaultStep(method: string, path: string): string {
  const bare = path.split('?')[0];
  return `${method} ${bare
    .split('/')
    .map((s) => (ID_SEGMENT.test(s) ? ':id' : s))
    .join('/')}`;
}

export function createClient(baseUrl: string, options: ClientOptions = {}): HttpClient {
  const base = new URL(baseUrl);
  const pool = options.pool ?? new ConnectionPool(base);
  const prefix = base.pathname.replace(/\/$/, '');
  const recorder = options.recorder;

  async function request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<HttpResponse<T>> {
    const step = opts.step ?? defaultStep(method, path);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { accept: 'application/json', ...options.headers, ...opts.headers };
    if (payload) headers['content-type'] = 'application/json';
    const started = performance.now();
    let raw: { status: number; headers: Record<string, string>; text: string };
    try {
      raw = await pool.request(method, prefix + path, headers, payload, opts.timeoutMs ?? options.timeoutMs ?? 30_000);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const error = new NetworkError(step, e.code ?? 'ERROR', e.message);
      recorder?.networkError(step, error);
      throw error;
    }
    const latencyMs = performance.now() - started;
    const expect = opts.expect;
    const ok = expect === undefined ? raw.status >= 200 && raw.status < 300 : typeof expect === 'number' ? raw.status === expect : expect.includes(raw.status);
    const parsed = parse(raw.text, raw.headers['content-type']) as T;
    recorder?.response(step, latencyMs, raw.status, ok, parsed);
    if (!ok && opts.throwOnError !== false) throw new HttpStatusError(step, raw.status, parsed);
    return { status: raw.status, headers: raw.headers, body: parsed, text: raw.text, latencyMs, ok };
  }

  return {
    baseUrl,
    request,
    get: (path, opts) => request('GET', path, undefined, opts),
    post: (path, body, opts) => request('POST', path, body, opts),
    put: (path, body, opts) => request('PUT', path, body, opts),
    delete: (path, opts) => request('DELETE', path, undefined, opts),
  };
}

function parse(text: string, contentType: string | undefined): unknown {
  if (!text) return undefined;
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
