// What a scenario file exports, and the helpers scenarios share: measure one server setup, ratios, checks.
import os from 'node:os';
import { ConnectionPool } from './connection-pool.ts';
import { machineCpu, otherCpuPercent, waitForQuiet } from './machine.ts';
import type { PartCounter } from './parts.ts';
import { runLoad, type LoadOptions, type LoadResult, type VirtualUser } from './load.ts';
import type { ServerProcess } from './servers.ts';

export interface BenchOptions {
  /** --connections, else the scenario's default, else 50. */
  connections: number;
  /** --duration (seconds), else the scenario's default, else 10. */
  durationSec: number;
  /** --warmup (seconds, default 1): load before each measurement that is thrown away (JIT, caches, pools). */
  warmupSec: number;
  /** The scenario's own flags (declared in `Scenario.flags`, defaults filled in) and the common `--quiet P` (see measure). */
  flags: Record<string, string | boolean>;
}

export interface BenchIO {
  /** A line on stdout: what the scenario is doing, between runs. */
  log(line: string): void;
  /** Pass to runLoad's `progress`: live line on stderr unless --no-progress. */
  progress: boolean;
  /** Counts measure() calls for the progress line's "part k of n, ETA". */
  parts?: PartCounter;
}

/** One measured setup: the load result plus who served it and what CPU they used. */
export interface RunRecord extends LoadResult {
  /** Row name in the results table, e.g. "cantons events". */
  label: string;
  servers: string[];
  /** CPU the server processes used during the measurement, percent of one core (summed); null off Linux. */
  serverCpuPercent: number | null;
  /** That CPU per successful request, µs: what the server pays per request whoever caps the rps. */
  serverCpuUsPerOk: number | null;
  /** 1-minute load average before the warm-up (includes this bench's own earlier runs, which decay over a minute). */
  loadAverage: number;
  /** CPU that processes other than these servers and the load generator used during the measurement, percent of one core (Linux). */
  otherCpuPercent: number | null;
  /** The discarded warm-up: its requests still reached the server (count them when checking what was stored). */
  warmup: { requests: number; ok: number; errors: number };
}

export interface RatioResult {
  name: string;
  value: number;
  /** Met when value ≥ target, or value ≤ target when `better` is 'lower' (see meetsTarget). */
  target?: number;
  /** higher (default): a throughput ratio, met at or above the target; lower: a cost ratio, met at or below it. */
  better?: 'higher' | 'lower';
  met?: boolean;
  /** The per-round values the median was taken of (one value for a single round). */
  rounds?: number[];
  detail: string;
}

/** Whether `value` reaches `target` in the ratio's direction: ≥ for 'higher' (the default), ≤ for 'lower'. */
export const meetsTarget = (value: number, target: number, better: RatioResult['better'] = 'higher'): boolean =>
  better === 'lower' ? value <= target : value >= target;

/** "target ≥ 0.8: MET", "target ≤ 1.2: NOT MET"; '' without a target. */
export function targetVerdict(r: Pick<RatioResult, 'target' | 'better' | 'met'>): string {
  if (r.target === undefined) return '';
  return `target ${r.better === 'lower' ? '≤' : '≥'} ${r.target}: ${r.met ? 'MET' : 'NOT MET'}`;
}

export interface CheckResult {
  name: string;
  pass: boolean;
  detail: string;
}

export interface ScenarioResult {
  runs: RunRecord[];
  ratios?: RatioResult[];
  /** Hard requirements (zero 5xx …): any failure makes `npm run bench` exit 1. */
  checks?: CheckResult[];
  notes?: string[];
}

/** What `npm run bench` stores in bench/results/<scenario>-<time>.json (and draws in the HTML beside it). */
export interface StoredResult extends ScenarioResult {
  scenario: string;
  /** ISO time. */
  startedAt: string;
  options: BenchOptions;
  machine: { node: string; platform: string; cpus: number };
}

/** A scenario's own command-line flag: parsed strictly (util.parseArgs), listed by `--help`. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  description: string;
  /** Filled in when the flag is not given, so the scenario (and "part k of n", for --rounds) always sees a value. */
  default?: string;
}

export interface Scenario {
  name: string;
  description: string;
  defaults?: { connections?: number; durationSec?: number };
  /** Every flag the scenario reads from `opts.flags`; any other is refused. */
  flags?: Record<string, FlagSpec>;
  run(opts: BenchOptions, io: BenchIO): Promise<ScenarioResult>;
}

export const defineScenario = (s: Scenario): Scenario => s;

/** `--rounds`, as the scenario declares it (`flags.rounds` with its default, which the CLI fills in): a whole number ≥ 1. */
export function roundsFlag(opts: BenchOptions): number {
  const rounds = Number(opts.flags.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds needs a whole number ≥ 1, got ${opts.flags.rounds}`);
  return rounds;
}

export type MeasureLoad = Omit<LoadOptions, 'name' | 'url' | 'connections' | 'durationMs' | 'progress' | 'pool'> & { url?: string };

/** GETs `path` (or the path for this virtual user) expecting 200, and `ok` of its body when given: an answer it refuses is an error. */
export function checkedGet(path: string | ((vu: VirtualUser) => string), step: string, ok?: (body: any) => boolean): MeasureLoad {
  return {
    async step(vu: VirtualUser) {
      const res = await vu.client.get(typeof path === 'string' ? path : path(vu), { step, expect: 200 });
      if (ok && !ok(res.body)) throw new Error(`${step} answered ${JSON.stringify(res.body)?.slice(0, 100)}`);
    },
  };
}

/**
 * With `--quiet P` (percent of a core): before a run, wait up to 60 s for a second in which other processes used
 * less than P, so runs on a shared machine start in its quieter moments.
 */
async function quietMoment(servers: ServerProcess[], opts: BenchOptions, io: BenchIO): Promise<void> {
  const flag = opts.flags.quiet;
  if (flag === undefined) return;
  const max = Number(flag);
  if (!Number.isFinite(max) || max <= 0) throw new Error(`--quiet needs a percent of one core, got ${flag}`);
  const own = () => {
    const cpu = servers.map((s) => s.cpuMs());
    const self = process.cpuUsage();
    return cpu.some((c) => c === null) ? null : cpu.reduce<number>((a, c) => a + c!, 0) + (self.user + self.system) / 1000;
  };
  const q = await waitForQuiet(max, 60_000, own);
  if (q.waitedMs > 1500)
    io.log(
      `  waited ${(q.waitedMs / 1000).toFixed(0)} s for a quiet moment (other processes: ${q.otherPercent}% of a core${q.otherPercent !== null && q.otherPercent >= max ? ', gave up' : ''})`,
    );
}

/**
 * Warm up (discarded), then load `servers[0].url` (or `load.url`) for the run's duration and connections,
 * recording the servers' CPU over the measurement.
 */
export async function measure(label: string, servers: ServerProcess[], load: MeasureLoad, opts: BenchOptions, io: BenchIO): Promise<RunRecord> {
  const url = load.url ?? servers[0].url;
  // The measurement reuses the warm-up's connections: steady state, without a connect storm in the window.
  const pool = new ConnectionPool(new URL(url), opts.connections);
  const warmup = { requests: 0, ok: 0, errors: 0 };
  let result: LoadResult;
  const cpu0: (number | null)[] = [];
  let machine0: ReturnType<typeof machineCpu> = null;
  let client0 = process.cpuUsage();
  let t0 = 0;
  const progressTail = io.parts?.start(label);
  await quietMoment(servers, opts, io);
  const loadAverage = Math.round(os.loadavg()[0] * 100) / 100;
  try {
    if (opts.warmupSec > 0) {
      const w = await runLoad({
        ...load,
        url,
        pool,
        name: `${label} warm-up`,
        connections: opts.connections,
        durationMs: opts.warmupSec * 1000,
        progress: false,
      });
      Object.assign(warmup, { requests: w.requests, ok: w.ok, errors: w.errors.total });
    }
    cpu0.push(...servers.map((s) => s.cpuMs()));
    [machine0, client0, t0] = [machineCpu(), process.cpuUsage(), performance.now()];
    result = await runLoad({
      ...load,
      url,
      pool,
      name: label,
      connections: opts.connections,
      durationMs: opts.durationSec * 1000,
      progress: io.progress,
      progressTail,
    });
  } finally {
    pool.destroy();
  }
  const cpu1 = servers.map((s) => s.cpuMs());
  const [machine1, client, wall] = [machineCpu(), process.cpuUsage(client0), performance.now() - t0];
  const used = cpu1.every((c, i) => c !== null && cpu0[i] !== null) ? cpu1.reduce<number>((sum, c, i) => sum + (c! - cpu0[i]!), 0) : null;
  return {
    label,
    servers: servers.map((s) => s.name),
    serverCpuPercent: used === null ? null : Math.round((used / result.elapsedMs) * 100),
    // To 0.1 µs: a fast machine's bare handler costs ≈ 15 µs, where whole microseconds would move a ratio by 3 %.
    serverCpuUsPerOk: used === null || result.ok === 0 ? null : Math.round((used * 10_000) / result.ok) / 10,
    warmup,
    loadAverage,
    otherCpuPercent: otherCpuPercent(machine0, machine1, used === null ? null : used + (client.user + client.system) / 1000, wall),
    ...result,
  };
}

/**
 * Scenarios name round r's run of a setup "<setup> #r" (rounds > 1): how the progress line learns the number of
 * parts and the charts group a setup's rounds. A label without it is round 1.
 */
export function roundOf(label: string): { setup: string; round: number } {
  const m = / #(\d+)\b/.exec(label);
  return m ? { setup: label.replace(m[0], ''), round: Number(m[1]) } : { setup: label, round: 1 };
}

/** The middle value (the mean of the two middle ones for an even count). */
export const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * `a ÷ b` on successful requests per second; with several rounds (a[i] measured next to b[i]), the
 * median of the per-round ratios, each listed in the detail. Met when a target is given and reached.
 */
export function ratio(name: string, a: RunRecord | RunRecord[], b: RunRecord | RunRecord[], target?: number): RatioResult {
  const as = [a].flat();
  const bs = [b].flat();
  if (as.length !== bs.length || as.length === 0) throw new Error(`ratio ${name}: ${as.length} runs against ${bs.length}`);
  const each = as.map((x, i) => (bs[i].okRps > 0 ? x.okRps / bs[i].okRps : 0));
  const exact = median(each);
  const detail =
    as.length === 1
      ? `${as[0].label} ${as[0].okRps} ok/s ÷ ${bs[0].label} ${bs[0].okRps} ok/s`
      : `median of ${as.length} rounds: ${each.map(round2).join(', ')}`;
  const value = round2(exact);
  const rounds = each.map(round2);
  return target === undefined ? { name, value, rounds, detail } : { name, value, target, met: meetsTarget(exact, target), rounds, detail };
}

/**
 * Server CPU per request, `b ÷ a` (median over rounds): the throughput ratio if each server had a
 * core to itself and the load generator cost nothing. Undefined where CPU cannot be read.
 */
export function cpuRatio(name: string, a: RunRecord[], b: RunRecord[]): RatioResult | undefined {
  const usA = a.map((x) => x.serverCpuUsPerOk);
  const usB = b.map((x) => x.serverCpuUsPerOk);
  if (usA.length === 0 || usA.length !== usB.length || [...usA, ...usB].some((us) => !us)) return undefined;
  const each = usA.map((us, i) => usB[i]! / us!);
  const detail =
    `server CPU per ok request ${median(usB as number[]).toFixed(1)} µs ÷ ${median(usA as number[]).toFixed(1)} µs (medians)` +
    (each.length > 1 ? `; per round ${each.map(round2).join(', ')}` : '');
  return { name, value: round2(median(each)), rounds: each.map(round2), detail };
}

/** `ratio` and, where CPU was read, `cpuRatio` of the same pair, named alike; `cpuTarget` judges the CPU one. */
export function ratioAndCpu(name: string, a: RunRecord[], b: RunRecord[], target?: number, cpuTarget?: number): RatioResult[] {
  const out = [ratio(name, a, b, target)];
  const cpu = cpuRatio(`${name}, by server CPU per request`, a, b);
  if (cpu) out.push(cpuTarget === undefined ? cpu : { ...cpu, target: cpuTarget, met: cpu.value >= cpuTarget });
  return out;
}

export function check(name: string, pass: boolean, detail: string): CheckResult {
  return { name, pass, detail };
}
