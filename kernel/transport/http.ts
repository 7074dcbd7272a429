// The HTTP transport: POST /rpc/<module.role>/<method> with JSON, timeouts, jittered retries, typed errors.
import http from 'node:http';
import https from 'node:https';
import { backoffDelay, sleep } from '../backoff.ts';
import { AppError, errors } from '../errors.ts';
import type { Contract, Transport } from '../contract.ts';

export const rpcPath = (role: string, method: string) => `/rpc/${role}/${method}`;

export interface HttpTransportOptions {
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  /** First retry delay; each next one doubles, with full jitter. */
  retryBaseMs?: number;
  headers?: () => Record<string, string>;
}

/**
 * node:http with a keep-alive agent rather than fetch: at 200 concurrent calls fetch (undici with web
 * streams) cost the split events layout most of its throughput.
 */
export function httpTransport(opts: HttpTransportOptions): Transport {
  const base = new URL(opts.baseUrl.replace(/\/+$/, ''));
  const client = base.protocol === 'https:' ? https : http;
  // Idle sockets close before the server's 65 s keep-alive does, so a reused socket is rarely a dead one.
  const agent = new client.Agent({ keepAlive: true, maxSockets: 512, timeout: 60_000 });
  const prefix = base.pathname.replace(/\/+$/, '');

  function post(path: string, body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = client.request(
        { protocol: base.protocol, hostname: base.hostname, port: base.port, path: prefix + path, method: 'POST', agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...opts.headers?.() } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${opts.timeoutMs} ms`), { code: 'TIMEOUT' })), opts.timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
      req.end(body);
    });
  }

  return {
    async call(contract: Contract, method: string, input: unknown) {
      const idempotent = contract.methods[method]?.idempotent === true;
      const attempts = idempotent ? opts.retries + 1 : 1;
      const body = JSON.stringify(input ?? null);
      let lastFailure = '';
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0) await sleep(backoffDelay(attempt, opts.retryBaseMs ?? 50, 2000));
        let res: { status: number; text: string };
        try {
          res = await post(rpcPath(contract.role, method), body);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          lastFailure = e.code === 'TIMEOUT' ? e.message : (e.code ?? e.message);
          continue;
        }
        if (res.status >= 200 && res.status < 300) return res.text === '' ? undefined : JSON.parse(res.text);
        const failure = safeJson(res.text) as { error?: string; message?: string; details?: unknown } | undefined;
        if (res.status === 503 && idempotent && attempt + 1 < attempts) {
          lastFailure = failure?.message ?? '503';
          continue;
        }
        if (failure?.error && failure.message !== undefined) throw new AppError(failure.error, res.status, failure.message, failure.details);
        throw new AppError('UNEXPECTED_ERROR', 500, `${contract.role}.${method} answered ${res.status}`);
      }
      throw errors.ROLE_UNAVAILABLE(`${contract.role} at ${opts.baseUrl} is unavailable: ${lastFailure}`);
    },
    async close() {
      agent.destroy();
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
