// The HTTP transport: POST /rpc/<module.role>/<method> with JSON, timeouts, jittered retries, typed errors.
import { AppError, errors } from './errors.ts';
import type { Contract, Transport } from './contract.ts';

export const rpcPath = (role: string, method: string) => `/rpc/${role}/${method}`;

export interface HttpTransportOptions {
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  /** First retry delay; each next one doubles, with full jitter. */
  retryBaseMs?: number;
  headers?: () => Record<string, string>;
}

/** Full-jitter exponential backoff: a random delay in [0, min(cap, base·2^attempt)). */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, factor = 2): number {
  return Math.random() * Math.min(capMs, baseMs * factor ** attempt);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function httpTransport(opts: HttpTransportOptions): Transport {
  const base = opts.baseUrl.replace(/\/+$/, '');
  return {
    async call(contract: Contract, method: string, input: unknown) {
      const idempotent = contract.methods[method]?.idempotent === true;
      const attempts = idempotent ? opts.retries + 1 : 1;
      let lastFailure = '';
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0) await sleep(backoffDelay(attempt, opts.retryBaseMs ?? 50, 2000));
        let res: Response;
        try {
          res = await fetch(base + rpcPath(contract.role, method), {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...opts.headers?.() },
            body: JSON.stringify(input ?? null),
            signal: AbortSignal.timeout(opts.timeoutMs),
          });
        } catch (err) {
          const e = err as Error & { cause?: { code?: string } };
          lastFailure = e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : (e.cause?.code ?? e.message);
          continue;
        }
        const text = await res.text();
        if (res.ok) return text === '' ? undefined : JSON.parse(text);
        const body = safeJson(text) as { error?: string; message?: string; details?: unknown } | undefined;
        if (res.status === 503 && idempotent && attempt + 1 < attempts) {
          lastFailure = body?.message ?? '503';
          continue;
        }
        if (body?.error && body.message !== undefined) throw new AppError(body.error, res.status, body.message, body.details);
        throw new AppError('UNEXPECTED_ERROR', 500, `${contract.role}.${method} answered ${res.status}`);
      }
      throw errors.ROLE_UNAVAILABLE(`${contract.role} at ${base} is unavailable: ${lastFailure}`);
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
