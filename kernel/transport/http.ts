// The HTTP transport: POST /rpc/<module.role>/<method> with JSON and the deployment's token, failing fast
// (deadline, breaker, bulkhead), answers checked, typed errors; and which roles a process serves that way.
import http from 'node:http';
import https from 'node:https';
import { assertOutsideTransaction } from '../../db/transaction-guard.ts';
import { AppError, errors } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { callPolicies, NoAnswer, type CallPolicyOptions } from './call-policy.ts';
import type { Contract, Transport } from '../contract.ts';
import type { ModuleDefinition } from '../module.ts';
import type { RolePlan } from '../role-plan.ts';
import { outgoingHeaders } from '../tracing/index.ts';

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

export interface HttpTransportOptions extends Pick<CallPolicyOptions, 'maxInFlight' | 'breakAfter' | 'probeAfterMs'> {
  baseUrl: string;
  /** Deadline of a whole call, retries included (RPC_TIMEOUT_MS). */
  timeoutMs: number;
  retries: number;
  /** First retry delay; each next one doubles, with full jitter. */
  retryBaseMs?: number;
  headers?: () => Record<string, string>;
  /** RPC_TOKEN: sent as `Authorization: Bearer <token>` on every call. */
  token?: string;
  log?: Logger;
}

/**
 * node:http with a keep-alive agent rather than fetch: at 200 concurrent calls fetch (undici with web
 * streams) cost the split events layout most of its throughput. Each call has its own connection
 * while it runs (HTTP/1.1), so a call past its deadline is simply destroyed: no sibling shares it.
 */
export function httpTransport(opts: HttpTransportOptions): Transport {
  const base = new URL(opts.baseUrl.replace(/\/+$/, ''));
  const client = base.protocol === 'https:' ? https : http;
  // Idle sockets close before the server's 65 s keep-alive does, so a reused socket is rarely a dead one.
  const agent = new client.Agent({ keepAlive: true, maxSockets: 512, timeout: 60_000 });
  const prefix = base.pathname.replace(/\/+$/, '');
  // Credentials in the URL (http://user:pw@host) are never sent as such nor quoted: only the token authenticates.
  const auth = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const policyFor = callPolicies(opts);

  /** One attempt, answered by the deadline at the latest; a socket failure or the deadline is NoAnswer. */
  function post(role: string, path: string, body: string, deadline: number): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const ms = Math.max(1, deadline - Date.now());
      const req = client.request(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path: prefix + path,
          method: 'POST',
          agent,
          // The trace context and the request id of the caller, where the process traces or carries them.
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...auth, ...opts.headers?.(), ...outgoingHeaders() },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (err: NodeJS.ErrnoException) => reject(new NoAnswer(role, err.code ?? 'the answer broke off')));
        },
      );
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('deadline'), { code: 'TIMEOUT' })), ms);
      req.on('close', () => clearTimeout(timer));
      // The code only: a socket error's message names the address, which a public client must not learn.
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(new NoAnswer(role, err.code === 'TIMEOUT' ? `no answer within ${opts.timeoutMs} ms` : (err.code ?? 'connection failed'))),
      );
      req.end(body);
    });
  }

  return {
    async call(contract: Contract, method: string, input: unknown) {
      assertOutsideTransaction(`an HTTP call to ${contract.role}`);
      const spec = contract.methods[method];
      const body = JSON.stringify(input ?? null);
      const role = contract.role;
      const answer = await policyFor(role)(method, spec.idempotent === true, async (deadline) => {
        const res = await post(role, rpcPath(role, method), body, deadline);
        if (res.status >= 200 && res.status < 300) return res.text;
        const failure = safeJson(res.text) as { error?: unknown; message?: unknown; details?: unknown } | undefined;
        // Our token refused: the deployment's misconfiguration, not the public client's missing key.
        if (res.status === 401) throw errors.ROLE_UNAVAILABLE(`${role} refused this process's RPC token`);
        // The kernel's own "no route": that process does not serve the role (a misconfigured address).
        if (res.status === 404 && failure?.error === 'NOT_FOUND') throw errors.ROLE_UNAVAILABLE(`${role} is not served at its address`);
        if (typeof failure?.error === 'string' && typeof failure.message === 'string')
          throw new AppError(failure.error, res.status, failure.message, failure.details);
        // Not a cantons answer: a proxy's 502/503/504 page is no answer; anything else is outside the contract.
        if (res.status >= 500) throw new NoAnswer(role, `answered ${res.status}`);
        throw errors.ROLE_INVALID_ANSWER(`${role} answered ${method} with ${res.status}, outside its contract`);
      });
      const parsed = spec.output.safeParse(answer === '' ? undefined : safeJson(answer, INVALID));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue.path.length ? `: ${issue.path.join('.')}` : '';
        // From our own schema only: nothing the peer sent is quoted.
        throw errors.ROLE_INVALID_ANSWER(`${role} answered ${method} outside its contract${where}: ${issue.message}`);
      }
      return parsed.data;
    },
    async close() {
      agent.destroy();
    },
  };
}

/** Stands for a body that is not JSON: no schema accepts it. */
const INVALID = Symbol('not JSON');

function safeJson(text: string, otherwise: unknown = undefined): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return otherwise;
  }
}
