// The client of a document platform (Eigen's protocol): login with a session cookie, create a project, multipart upload.
import { fetch, FormData, type RequestInit, type Response } from 'undici';
import { assertOutsideTransaction } from '../../../db/transaction-guard.ts';
import { backoffDelay, sleep } from '../../../kernel/backoff.ts';
import { traced } from '../../../kernel/tracing/traced.ts';
import { type Pinned, pinnedAgent } from '../target-http.ts';
import type { TargetPolicy } from '../target-policy.ts';

export interface TargetOptions {
  /** Normalised base URL, e.g. http://127.0.0.1:8080/target (no trailing slash). */
  baseUrl: string;
  username: string;
  password: string;
  timeoutMs: number;
  /** Retries of a request that failed on the network or answered 5xx; 4xx is an answer, not a fault. */
  retries: number;
  retryBaseMs?: number;
  /** Which addresses may be called (BENCHMARK_TARGETS): checked once per client, and connected to as checked. */
  policy: TargetPolicy;
  /** X-API-Key on every request, given whether the checked address is this process's own (api-keys.ts). */
  apiKey?(own: boolean): string | undefined;
  /** Runs each request (the bounds per target host and overall); default: at once. */
  limit?<T>(fn: () => Promise<T>): Promise<T>;
  /** Aborts every request (the process is stopping). */
  signal?: AbortSignal;
}

/**
 * A target failure that ends the benchmark (ErrorOccurred). Its message names only the step: what the target
 * answered, or whether it answered at all, never reaches a client (a closed port, a non-HTTP service and a
 * refusal look the same); `detail` is for the server log.
 */
export class TargetError extends Error {
  constructor(
    readonly step: string,
    readonly detail: string,
  ) {
    super(`${step}: the target call failed`);
    this.name = 'TargetError';
  }
}

export interface UploadFile {
  name: string;
  content: Uint8Array;
}

/** host:port as the target names itself in callbacks, and the base URL to call, from what a client sent. */
export function normaliseTarget(targetUrl: string): { base: string; host: string } {
  const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(targetUrl) ? targetUrl : `http://${targetUrl}`);
  return { base: `${u.origin}${u.pathname.replace(/\/+$/, '')}`, host: u.host.toLowerCase() };
}

// Callbacks name the same few hosts over and over, and parsing one as a URL cost ≈ 1 µs of every callback.
const hosts = new Map<string, string>();

/** The same host:port spelling for a callback's benchmark_host_name (which may carry a scheme or a path). */
export function normaliseHost(hostName: string): string {
  let host = hosts.get(hostName);
  if (host === undefined) {
    try {
      host = normaliseTarget(hostName).host;
    } catch {
      host = hostName.toLowerCase();
    }
    if (hosts.size >= 1024) hosts.clear();
    hosts.set(hostName, host);
  }
  return host;
}

/** A 5xx answer, thrown inside an attempt's span so the span reads as failed; the attempt is retried. */
class ServerFault extends Error {
  constructor(readonly status: number) {
    super(`answered ${status}`);
  }
}

export function createTargetClient(opts: TargetOptions) {
  let cookie = '';
  let pinned: Promise<Pinned | undefined> | undefined;
  const retryBaseMs = opts.retryBaseMs ?? 200;
  const limit = opts.limit ?? ((fn) => fn());

  async function send(step: string, path: string, init: () => RequestInit): Promise<Response> {
    assertOutsideTransaction(`an HTTP call to a benchmark target (${step})`);
    pinned ??= pinnedAgent(opts.policy, new URL(opts.baseUrl));
    const pin = await pinned;
    if (!pin) throw new TargetError(step, 'no address of the target is allowed by BENCHMARK_TARGETS');
    const apiKey = opts.apiKey?.(pin.own);
    let last = '';
    for (let attempt = 0; attempt <= opts.retries; attempt++) {
      if (attempt > 0) await sleep(retryBaseMs + backoffDelay(attempt, retryBaseMs, 5000));
      try {
        const req = init();
        const url = `${opts.baseUrl}${path}`;
        // A client span per request (each retry its own), a child of the step after the commit that made it.
        // No traceparent goes to the target: it is a system a client named, not a role of cantons.
        const attributes = { 'http.request.method': req.method ?? 'GET', 'url.full': url, ...(attempt > 0 ? { 'http.request.resend_count': attempt } : {}) };
        return await limit(() =>
          traced(
            `target ${step}`,
            'client',
            async () => {
              const res = await fetch(url, {
                ...req,
                headers: { ...(req.headers as Record<string, string>), ...(cookie ? { cookie } : {}), ...(apiKey ? { 'x-api-key': apiKey } : {}) },
                signal: opts.signal ? AbortSignal.any([AbortSignal.timeout(opts.timeoutMs), opts.signal]) : AbortSignal.timeout(opts.timeoutMs),
                redirect: 'manual',
                dispatcher: pin.agent,
              });
              if (res.status < 500) return res;
              await res.body?.cancel();
              throw new ServerFault(res.status);
            },
            attributes,
          ),
        );
      } catch (err) {
        last =
          err instanceof ServerFault
            ? err.message
            : (err as Error).name === 'TimeoutError'
              ? `timed out after ${opts.timeoutMs} ms`
              : `unreachable (${(err as Error).message})`;
      }
    }
    throw new TargetError(step, `target ${last} after ${opts.retries + 1} attempts`);
  }

  async function login(): Promise<void> {
    cookie = '';
    const res = await send('login', '/auth/v1/token/', () => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: opts.username, password: opts.password }),
    }));
    await res.body?.cancel();
    // A cantons process behind API_KEYS answers 401 before its target sees the credentials.
    if (res.status === 401 && /realm="cantons"/.test(res.headers.get('www-authenticate') ?? '')) {
      throw new TargetError('login', 'the target is behind API_KEYS and refused the request (401; see BENCHMARK_TARGET_API_KEY)');
    }
    if (!res.ok) throw new TargetError('login', `target refused the credentials (${res.status})`);
    // Keep name=value of every cookie the target set: that is the session.
    cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  }

  /** One authenticated request; a 401 (the session expired: "Token has expired.") logs in again once. */
  async function authed(step: string, path: string, init: () => RequestInit): Promise<Response> {
    if (!cookie) await login();
    let res = await send(step, path, init);
    if (res.status === 401) {
      await res.body?.cancel();
      await login();
      res = await send(step, path, init);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new TargetError(step, `target answered ${res.status}`);
    }
    return res;
  }

  return {
    login,

    /** POST /api/project_management/v2/projects/ → the project's document_type_id (the id callbacks carry). */
    async createProject(name: string, description: string): Promise<string> {
      const res = await authed('create project', '/api/project_management/v2/projects/', () => ({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, description }),
      }));
      const body = (await res.json().catch(() => ({}))) as { document_type_id?: unknown };
      if (body.document_type_id === undefined || body.document_type_id === null) throw new TargetError('create project', 'no document_type_id in the answer');
      return String(body.document_type_id);
    },

    /** POST /api/v1/document_uploader/ as multipart: document_type_id plus one `files` part per document. */
    async upload(projectId: string, files: UploadFile[]): Promise<void> {
      const res = await authed('upload', '/api/v1/document_uploader/', () => {
        const form = new FormData();
        form.append('document_type_id', projectId);
        for (const f of files) form.append('files', new Blob([f.content as Uint8Array<ArrayBuffer>]), f.name);
        return { method: 'POST', body: form };
      });
      await res.body?.cancel();
    },

    /** Closes the connections to the target. */
    close: async () => (await pinned)?.agent.close(),
  };
}

export type TargetClient = ReturnType<typeof createTargetClient>;
