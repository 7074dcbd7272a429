// The HTTP transport: POST /rpc/<module.role>/<method> with JSON and the deployment's token, timeouts,
// jittered retries, typed errors; and which roles a process serves that way.
import http from 'node:http';
import https from 'node:https';
import { assertOutsideTransaction } from '../../db/transaction-guard.ts';
import { backoffDelay, sleep } from '../backoff.ts';
import { AppError, errors } from '../errors.ts';
import type { Contract, Transport } from '../contract.ts';
import type { ModuleDefinition } from '../module.ts';
import type { RolePlan } from '../role-plan.ts';

export const rpcPath = (role: string, method: string) => `/rpc/${role}/${method}`;

/**
 * The roles this process serves to other processes over /rpc: those it runs whose contract a role of a
 * known module that does NOT run here uses. Everything in one process (MODULES unset): none, so there is
 * no /rpc at all; `MODULES=shop.products` (shop.orders elsewhere): shop.products.
 */
export function rpcServedRoles(known: ModuleDefinition<any>[], plan: RolePlan): string[] {
  const local = new Set(plan.local.map((r) => r.name));
  const wanted = new Set<string>();
  for (const m of known) {
    for (const [role, spec] of Object.entries(m.roles)) {
      if (local.has(`${m.name}.${role}`)) continue;
      for (const used of spec.uses ?? []) wanted.add(used.role);
    }
  }
  return plan.local
    .filter((r) => r.module.roles[r.role].provides && wanted.has(r.module.roles[r.role].provides!.role))
    .map((r) => r.module.roles[r.role].provides!.role);
}

/** 127.0.0.0/8, ::1, localhost: only this machine reaches the port. */
export const isLoopback = (host: string) => /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i.test(host);

/** Start-up problems of serving roles to other processes: on a non-loopback HOST, not without RPC_TOKEN. */
export function rpcExposureProblems(served: string[], host: string, token: string | undefined): string[] {
  if (!served.length || token || isLoopback(host)) return [];
  return [
    `${served.join(', ')} would be served to other processes on ${host} (HOST, or RPC_HOST with RPC_PORT) without a credential; set RPC_TOKEN (or RPC_TOKEN_FILE) in every process of the deployment`,
  ];
}

export interface HttpTransportOptions {
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  /** First retry delay; each next one doubles, with full jitter. */
  retryBaseMs?: number;
  headers?: () => Record<string, string>;
  /** RPC_TOKEN: sent as `Authorization: Bearer <token>` on every call. */
  token?: string;
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
  // Credentials in the URL (http://user:pw@host) are never sent as such nor quoted: only the token authenticates.
  const auth = opts.token ? { authorization: `Bearer ${opts.token}` } : {};

  function post(path: string, body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = client.request(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path: prefix + path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...auth, ...opts.headers?.() },
        },
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
      assertOutsideTransaction(`an HTTP call to ${contract.role}`);
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
          // The code only: a socket error's message names the address, which a public client must not learn.
          lastFailure = e.code === 'TIMEOUT' ? e.message : (e.code ?? 'connection failed');
          continue;
        }
        if (res.status >= 200 && res.status < 300) return res.text === '' ? undefined : JSON.parse(res.text);
        const failure = safeJson(res.text) as { error?: string; message?: string; details?: unknown } | undefined;
        if (res.status === 503 && idempotent && attempt + 1 < attempts) {
          lastFailure = failure?.message ?? '503';
          continue;
        }
        // Our token refused: the deployment's misconfiguration, not the public client's missing key.
        if (res.status === 401) throw errors.ROLE_UNAVAILABLE(`${contract.role} refused this process's RPC token`);
        if (failure?.error && failure.message !== undefined) throw new AppError(failure.error, res.status, failure.message, failure.details);
        throw new AppError('UNEXPECTED_ERROR', 500, `${contract.role}.${method} answered ${res.status}`);
      }
      // The role, never its address: the message reaches public clients.
      throw errors.ROLE_UNAVAILABLE(`${contract.role} is unavailable: ${lastFailure}`);
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
