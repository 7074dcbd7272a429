// The load generator: N keep-alive connections, one virtual user each, running a step function in a closed loop.
import { ConnectionPool } from './connection-pool.ts';
import { COUNTED, createClient, type HttpClient, type RequestRecorder } from './http-client.ts';
import { createRandom, type Random } from './random.ts';
import { RunStats, type ErrorTally, type StepResult, type TimelinePoint } from './stats.ts';
import type { LatencySummary } from './histogram.ts';

export { createClient } from './http-client.ts';
export type { HttpClient, HttpResponse, RequestOptions } from './http-client.ts';
export { HttpStatusError, NetworkError } from './http-client.ts';

export interface VirtualUser {
  /** 0 … connections-1 */
  readonly id: number;
  /** How many iterations this user has started (0 on the first). */
  iteration: number;
  /** Bound to the run's connections and counters. */
  readonly client: HttpClient;
  /** Seeded per user: `seed + id`. */
  readonly random: Random;
  /** Scratch space kept across this user's iterations. */
  readonly state: Record<string, unknown>;
}

export interface LoadOptions {
  /** Shown in progress lines and copied to the result. */
  name?: string;
  url: string;
  /** Virtual users = sockets. */
  connections: number;
  /** Stop starting iterations after this long. Default 10 s unless a count limit is given. */
  durationMs?: number;
  /** Stop after exactly this many iterations of `step` in total. */
  iterations?: number;
  /** One iteration: may issue several requests; a throw counts as a failed assertion (unless already counted). */
  step(vu: VirtualUser): Promise<void>;
  /** Per user, before the clock starts (log in, create a cart …); a throw aborts the run. */
  setup?(vu: VirtualUser): Promise<void>;
  /** Default 'auto': on when stderr exists. `\r`-rewritten each second on a TTY, a line every `progressEveryMs` otherwise. */
  progress?: boolean | 'auto';
  progressEveryMs?: number;
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Appended to each progress line: e.g. the bench's "part k of n, ETA …". */
  progressTail?: () => string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  seed?: number;
  /** How long to wait for in-flight iterations after time is up before cutting sockets. Default 10 s. */
  graceMs?: number;
  /**
   * Reuse these kept-alive connections (maxSockets ≥ connections) and leave them open, e.g. to measure
   * on the connections a warm-up opened; by default each run opens its own and closes them at the end.
   */
  pool?: ConnectionPool;
}

export interface LoadResult {
  name: string;
  url: string;
  connections: number;
  /** Wall time from the first request to the last response, ms. */
  elapsedMs: number;
  iterations: number;
  requests: number;
  /** Requests whose status was expected. */
  ok: number;
  rps: number;
  okRps: number;
  statuses: Record<string, number>;
  errors: ErrorTally;
  latency: LatencySummary;
  steps: Record<string, StepResult>;
  /** Per second: requests, ok, errors, rps and latency percentiles, for drawing the run over time. */
  timeline: TimelinePoint[];
  /** CPU the load generator itself used, percent of one core: near 100 means the client may be the bottleneck. */
  loadgenCpuPercent: number;
  /** That CPU per finished request, µs (null when none finished). */
  loadgenCpuUsPerRequest: number | null;
  /** True when in-flight work outlived `graceMs` and sockets were cut. */
  cutOff: boolean;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const connections = Math.max(1, Math.floor(opts.connections));
  const name = opts.name ?? opts.url;
  const durationMs = opts.durationMs ?? (opts.iterations !== undefined ? Infinity : 10_000);
  const pool = opts.pool ?? new ConnectionPool(new URL(opts.url), connections);
  // setup requests go to throwaway counters: they are not part of the measurement
  let stats = new RunStats();
  const recorder: RequestRecorder = {
    response: (...a) => stats.response(...a),
    networkError: (...a) => stats.networkError(...a),
  };
  const client = createClient(opts.url, { pool, recorder, headers: opts.headers, timeoutMs: opts.timeoutMs });
  const seed = opts.seed ?? Date.now();
  const users: VirtualUser[] = Array.from({ length: connections }, (_, id) => ({
    id,
    iteration: 0,
    client,
    random: createRandom(seed + id),
    state: {},
  }));
  try {
    if (opts.setup) await Promise.all(users.map((vu) => opts.setup!(vu)));
    stats = new RunStats();
    return await measure(opts, name, connections, durationMs, users, stats, pool);
  } finally {
    if (!opts.pool) pool.destroy();
  }
}

async function measure(
  opts: LoadOptions,
  name: string,
  connections: number,
  durationMs: number,
  users: VirtualUser[],
  stats: RunStats,
  pool: ConnectionPool,
): Promise<LoadResult> {
  let stopping = false;
  let started = 0;
  const limit = opts.iterations ?? Infinity;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = t0 + durationMs;
  const progress = startProgress(opts, name, stats, t0);

  const loop = async (vu: VirtualUser) => {
    while (!stopping && performance.now() < deadline && started < limit) {
      started++;
      stats.iterations++;
      try {
        await opts.step(vu);
      } catch (err) {
        if (!(err && typeof err === 'object' && COUNTED in err)) stats.assertion(err);
      }
      vu.iteration++;
    }
  };
  const all = Promise.all(users.map(loop));
  let cutOff = false;
  if (Number.isFinite(durationMs)) {
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((r) => {
      timer = setTimeout(r, durationMs + (opts.graceMs ?? 10_000), 'timeout');
    });
    const first = await Promise.race([all, graceOver]);
    clearTimeout(timer);
    if (first === 'timeout') {
      cutOff = true;
      stopping = true;
      stats.frozen = true;
      pool.destroy();
      await all;
    }
  } else {
    await all;
  }
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  progress.stop(elapsedMs);
  const seconds = elapsedMs / 1000;
  return {
    name,
    url: opts.url,
    connections,
    elapsedMs: Math.round(elapsedMs),
    iterations: stats.iterations,
    requests: stats.requests,
    ok: stats.ok,
    rps: Math.round(stats.requests / seconds),
    okRps: Math.round(stats.ok / seconds),
    statuses: { ...stats.statuses },
    errors: stats.errors,
    latency: stats.all.summary(),
    steps: stats.stepResults(),
    timeline: progress.timeline,
    loadgenCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100),
    loadgenCpuUsPerRequest: stats.requests ? Math.round((cpu.user + cpu.system) / stats.requests) : null,
    cutOff,
  };
}

function startProgress(opts: LoadOptions, name: string, stats: RunStats, t0: number) {
  const stream = opts.progressStream ?? process.stderr;
  const enabled = opts.progress === undefined || opts.progress === 'auto' ? Boolean(stream) : opts.progress;
  const tty = Boolean(stream.isTTY);
  const printEvery = tty ? 1000 : (opts.progressEveryMs ?? 2000);
  const timeline: TimelinePoint[] = [];
  let lastTick = t0;
  let lastPrint = t0;
  let rps = 0;
  const line = (now: number) =>
    `[${name}] ${((now - t0) / 1000).toFixed(1)}s  ${stats.requests} req  ${rps} rps  ${stats.errors.total} errors${opts.progressTail?.() ?? ''}`;
  const tick = (now: number) => {
    const point = stats.second((now - t0) / 1000, (now - lastTick) / 1000);
    timeline.push(point);
    rps = point.rps;
    lastTick = now;
  };
  const timer = setInterval(() => {
    const now = performance.now();
    tick(now);
    if (enabled && now - lastPrint >= printEvery - 50) {
      stream.write(tty ? `\r${line(now)}\x1b[K` : `${line(now)}\n`);
      lastPrint = now;
    }
  }, 1000);
  return {
    timeline,
    stop(elapsedMs: number) {
      clearInterval(timer);
      // The tail since the last tick, so the timeline adds up to the run (a sliver under 100 ms is noise).
      if (elapsedMs - (lastTick - t0) >= 100) tick(t0 + elapsedMs);
      if (enabled && tty) stream.write(`\r${line(t0 + elapsedMs)}\x1b[K\n`);
    },
  };
}
