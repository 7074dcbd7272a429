// Single-request load through autocannon: each connection sends one fresh request after another, every answer checked and counted as runLoad does.
import autocannon from 'autocannon';
import type { LoadResult } from '../load.ts';
import { createRandom, type Random } from '../random.ts';
import { RunStats } from '../stats.ts';

export interface OneRequest {
  /** Label the latency is recorded under. */
  step: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Default 200. */
  expect?: number;
  /** A message when the (parsed) body is wrong; called only for the expected status. */
  verify?(body: unknown): string | undefined;
}

export interface RequestLoadOptions {
  name?: string;
  url: string;
  connections: number;
  durationMs: number;
  /** The next request to send, from a generator seeded once per run. */
  next(random: Random): OneRequest;
  seed?: number;
  timeoutMs?: number;
}

const parse = (text: string) => {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
};

/** One closed-loop run; the result has runLoad's shape, so scenarios report and compare it alike. */
export async function runRequests(opts: RequestLoadOptions): Promise<LoadResult> {
  const stats = new RunStats();
  const random = createRandom(opts.seed ?? Date.now());
  // onResponse (per request, with the body) runs just before the instance's 'response' event (with the
  // latency) for the same answer, so the verdict is handed from one to the other.
  let answered: { step: string; status: number; ok: boolean; body: unknown; problem?: string } | undefined;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const instance = autocannon({
    url: opts.url,
    connections: Math.max(1, Math.floor(opts.connections)),
    duration: opts.durationMs / 1000,
    timeout: (opts.timeoutMs ?? 30_000) / 1000,
    requests: [
      {
        setupRequest: (req, context) => {
          const r = opts.next(random);
          context.request = r;
          const headers: Record<string, string> = { accept: 'application/json', ...r.headers };
          if (r.body !== undefined) headers['content-type'] = 'application/json';
          return { ...req, method: r.method, path: r.path, headers, body: r.body === undefined ? undefined : JSON.stringify(r.body) };
        },
        onResponse: (status, text, context) => {
          const r = context.request as OneRequest;
          const body = parse(text);
          const ok = status === (r.expect ?? 200);
          answered = { step: r.step, status, ok, body, problem: ok && r.verify ? r.verify(body) : undefined };
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, latencyMs: number) => {
    const a = answered;
    answered = undefined;
    if (!a) return;
    stats.response(a.step, latencyMs, a.status, a.ok, a.body);
    if (a.problem) stats.assertion(new Error(a.problem));
  });
  instance.on('reqError', (error: Error & { code?: string }) => stats.networkError('request', error));
  await instance;
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const seconds = elapsedMs / 1000;
  const ok = stats.ok - stats.errors.assertion;
  return {
    name: opts.name ?? opts.url,
    url: opts.url,
    connections: opts.connections,
    elapsedMs: Math.round(elapsedMs),
    iterations: stats.requests,
    requests: stats.requests,
    ok,
    rps: Math.round(stats.requests / seconds),
    okRps: Math.round(ok / seconds),
    statuses: { ...stats.statuses },
    errors: stats.errors,
    latency: stats.all.summary(),
    steps: stats.stepResults(),
    timeline: [],
    loadgenCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100),
    loadgenCpuUsPerRequest: stats.requests ? Math.round((cpu.user + cpu.system) / stats.requests) : null,
    cutOff: false,
  };
}
