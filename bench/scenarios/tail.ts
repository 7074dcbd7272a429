// The tail (issue 24, item 5): the same servers under our generator and under wrk, side by side, with wrk's
// coordinated-omission correction undone, and a long run of ours with WAL checkpoints inside the window.
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import { runLoad } from '../load.ts';
import { machineCpu, otherCpuPercent } from '../machine.ts';
import {
  check,
  defineScenario,
  measure,
  median,
  roundsFlag,
  type BenchIO,
  type BenchOptions,
  type CheckResult,
  type RatioResult,
  type RunRecord,
} from '../scenario.ts';
import type { ServerProcess } from '../servers.ts';
import { stopServers } from '../servers.ts';
import { TARGETS, type Target } from './kernel.ts';
import { formatTailTable, little, type LongRow, type TailRow } from '../tail/report.ts';
import { tcpCounters, tcpDelta } from '../tail/tcp.ts';
import { findWrk, runWrk, type WrkRun } from '../tail/wrk.ts';

/** The servers, as the kernel bench starts and loads them (the same snow reports, fresh X-Trace-Id each). */
export const SERVERS = {
  noop: TARGETS.noop,
  floor: TARGETS['durable-floor'],
  events: TARGETS['events-post'],
} satisfies Record<string, Target>;
export type ServerName = keyof typeof SERVERS;

/** How each run is generated; every run gets a freshly started server. */
export const MODES = {
  ours: { generator: 'ours', label: 'ours after warm-up' },
  'ours-new': { generator: 'ours', label: 'ours, new conns in window' },
  wrk: { generator: 'wrk', label: 'wrk' },
  'wrk-warm': { generator: 'wrk', label: 'wrk after a wrk warm-up' },
  'wrk-long': { generator: 'wrk', label: 'wrk long' },
} as const;
export type ModeName = keyof typeof MODES;

const TARGET_RATIO = 3;

const list = <T extends string>(flag: string | boolean | undefined, all: readonly T[], name: string): T[] => {
  if (typeof flag !== 'string') return [...all];
  const picked = flag.split(',').filter(Boolean) as T[];
  const unknown = picked.filter((p) => !all.includes(p));
  if (unknown.length) throw new Error(`--${name}: unknown ${unknown.join(', ')}; use ${all.join(',')}`);
  return picked;
};

const seconds = (flag: string | boolean | undefined, name: string) => {
  const v = Number(flag);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs seconds ≥ 0, got ${flag}`);
  return v;
};

/** The biggest `*-wal` file under a server's DATA_DIR, sampled while it runs: how far the log grew between checkpoints. */
function walWatcher(dir: string) {
  let max = 0;
  const sample = () => {
    try {
      for (const f of readdirSync(dir)) if (f.endsWith('-wal')) max = Math.max(max, statSync(join(dir, f)).size);
    } catch {}
  };
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return Math.round((max / 2 ** 20) * 10) / 10;
    },
  };
}

/** A wrk run as a RunRecord (latency: what wrk printed, from its corrected histogram), so the usual table and JSON carry it. */
function wrkRecord(label: string, server: ServerProcess, run: WrkRun, serverCpuMs: number | null, other: number | null, loadAverage: number): RunRecord {
  const r = run.result;
  const printed = r.raw?.corrected;
  const elapsedMs = Math.round(r.runtimeSec * 1000);
  const network = r.errors.connect + r.errors.read + r.errors.write;
  const ok = r.requests - r.errors.status;
  return {
    label,
    servers: [server.name],
    serverCpuPercent: serverCpuMs === null ? null : Math.round((serverCpuMs / elapsedMs) * 100),
    serverCpuUsPerOk: serverCpuMs === null || ok === 0 ? null : Math.round((serverCpuMs * 10_000) / ok) / 10,
    loadAverage,
    otherCpuPercent: other,
    warmup: { requests: 0, ok: 0, errors: 0 },
    name: label,
    url: server.url,
    connections: r.connections,
    elapsedMs,
    iterations: r.requests,
    requests: r.requests,
    ok,
    rps: Math.round(r.rps),
    okRps: Math.round(ok / r.runtimeSec),
    statuses: {},
    errors: {
      total: r.errors.status + network,
      status: r.errors.status,
      status5xx: 0,
      network,
      assertion: 0,
      samples: r.errors.status ? { 'wrk: non-2xx or 3xx responses': r.errors.status } : {},
    },
    latency: {
      count: printed?.count ?? r.requests,
      min: printed?.min ?? 0,
      max: r.reported.max,
      avg: r.reported.mean,
      p50: r.reported.p50,
      p90: r.reported.p90,
      p95: printed?.p95 ?? r.reported.p90,
      p99: r.reported.p99,
    },
    steps: {},
    timeline: [],
    loadgenCpuPercent: run.cpuMs === null ? 0 : Math.round((run.cpuMs / run.elapsedMs) * 100),
    loadgenCpuUsPerRequest: run.cpuMs === null || r.requests === 0 ? null : Math.round((run.cpuMs * 1000) / r.requests),
    cutOff: false,
  };
}

interface RunContext {
  opts: BenchOptions;
  io: BenchIO;
  wrk: string | null;
  wrkThreads: number;
  wrkLongSec: number;
  checks: CheckResult[];
}

/** One measurement: a fresh server, the mode's generator, the server stopped. */
async function measureOne(name: ServerName, mode: ModeName, round: number, rounds: number, ctx: RunContext): Promise<{ run: RunRecord; row: TailRow }> {
  const { opts, io } = ctx;
  const target: Target = SERVERS[name];
  const c = opts.connections;
  const label = `${target.label}, ${MODES[mode].label}, ${c} conns${rounds > 1 ? ` #${round}` : ''}`;
  io.log(`${rounds > 1 ? `round ${round}/${rounds}: ` : ''}${label} …`);
  const server = await target.start();
  try {
    const tcp0 = tcpCounters();
    let run: RunRecord;
    let wrkRun: WrkRun | undefined;
    if (mode === 'ours') {
      run = await measure(label, [server], target.load, opts, io);
    } else if (mode === 'ours-new') {
      // The warm-up on connections of its own, closed; the measurement then opens its 200 inside the window.
      if (opts.warmupSec > 0)
        await runLoad({ ...target.load, url: server.url, connections: c, durationMs: opts.warmupSec * 1000, progress: false, name: `${label} warm-up` });
      run = await measure(label, [server], target.load, { ...opts, warmupSec: 0 }, io);
    } else {
      const wrk = ctx.wrk!;
      if (mode === 'wrk-warm' && opts.warmupSec > 0)
        await runWrk({ wrk, url: server.url, connections: c, durationSec: opts.warmupSec, threads: ctx.wrkThreads });
      const durationSec = mode === 'wrk-long' ? ctx.wrkLongSec : opts.durationSec;
      const loadAverage = Math.round(os.loadavg()[0] * 100) / 100;
      const [cpu0, m0] = [server.cpuMs(), machineCpu()];
      wrkRun = await runWrk({ wrk, url: server.url, connections: c, durationSec, threads: ctx.wrkThreads });
      const [cpu1, m1] = [server.cpuMs(), machineCpu()];
      const serverCpu = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
      const own = serverCpu === null || wrkRun.cpuMs === null ? null : serverCpu + wrkRun.cpuMs;
      run = wrkRecord(label, server, wrkRun, serverCpu, otherCpuPercent(m0, m1, own, wrkRun.elapsedMs), loadAverage);
    }
    const tcp = tcpDelta(tcp0, tcpCounters());
    ctx.checks.push(check(`${label}: every request answered 2xx`, run.errors.total === 0, `${run.errors.total} errors of ${run.requests}`));
    if (wrkRun?.result.raw)
      ctx.checks.push(
        check(
          `${label}: wrk's histogram dump read right`,
          wrkRun.result.raw.consistent,
          `${wrkRun.result.raw.latency.count} measured = ${wrkRun.result.requests} responses − ${wrkRun.result.errors.timeout} timeouts; corrected count ${wrkRun.result.raw.correctedCount}`,
        ),
      );
    return { run, row: tailRow(name, mode, round, run, wrkRun, tcp) };
  } finally {
    await stopServers(server);
  }
}

function tailRow(server: ServerName, mode: ModeName, round: number, run: RunRecord, wrkRun: WrkRun | undefined, tcp: TailRow['tcp']): TailRow {
  const c = run.connections;
  const w = wrkRun?.result;
  if (!w) {
    const l = run.latency;
    return {
      server: SERVERS[server].label,
      mode,
      round,
      durationSec: Math.round(run.elapsedMs / 100) / 10,
      rps: run.rps,
      measured: { p50: l.p50, p99: l.p99, max: l.max, mean: l.avg, little: little(l.avg, run.rps, c) },
      tcp,
      timeline: run.timeline,
    };
  }
  return {
    server: SERVERS[server].label,
    mode,
    round,
    durationSec: Math.round(w.runtimeSec * 10) / 10,
    rps: Math.round(w.rps),
    printed: { p50: w.reported.p50, p99: w.reported.p99, max: w.reported.max, mean: w.reported.mean, little: little(w.reported.mean, w.rps, c) },
    measured: w.raw
      ? { p50: w.raw.latency.p50, p99: w.raw.latency.p99, max: w.raw.latency.max, mean: w.raw.latency.mean, little: little(w.raw.latency.mean, w.rps, c) }
      : undefined,
    timeouts: w.errors.timeout,
    over500ms: w.raw?.over500ms,
    synthetic: w.raw?.synthetic,
    intervalMs: w.raw ? w.raw.intervalUs / 1000 : undefined,
    tcp,
  };
}

/** The long run: our generator for --long seconds on cantons (each checkout) and what else --long-servers names. */
async function longRun(name: ServerName, root: string | undefined, ctx: RunContext): Promise<{ run: RunRecord; row: LongRow }> {
  const { opts, io } = ctx;
  const target: Target = SERVERS[name];
  const longSec = seconds(opts.flags.long, 'long');
  const label = `${target.label}${root ? ` @${basename(root)}` : ''}, ours for ${longSec} s, ${opts.connections} conns`;
  io.log(`long run: ${label} …`);
  const server = await target.start(undefined, undefined, root);
  const wal = walWatcher(server.dataDir);
  try {
    const run = await measure(label, [server], target.load, { ...opts, durationSec: longSec }, io);
    const walMiB = wal.stop();
    ctx.checks.push(check(`${label}: every request answered 2xx`, run.errors.total === 0, `${run.errors.total} errors of ${run.requests}`));
    const l = run.latency;
    // A stalled second: its slowest request took over 10× the run's median (a checkpoint on the event loop, a GC …).
    const stalls = run.timeline.filter((p) => p.max > 10 * l.p50);
    return {
      run,
      row: {
        server: `${target.label}${root ? ` @${basename(root)}` : ''}`,
        durationSec: Math.round(run.elapsedMs / 100) / 10,
        rps: run.rps,
        p50: l.p50,
        p99: l.p99,
        max: l.max,
        little: little(l.avg, run.rps, opts.connections),
        walMiB,
        stalls: stalls.map((p) => ({ t: p.t, max: p.max, p99: p.p99 })),
        worstSecond: run.timeline.reduce((a, p) => (p.max > a.max ? { t: p.t, max: p.max, p99: p.p99 } : a), { t: 0, max: 0, p99: 0 }),
      },
    };
  } finally {
    wal.stop();
    await stopServers(server);
  }
}

async function run(opts: BenchOptions, io: BenchIO) {
  const rounds = roundsFlag(opts);
  const servers = list(opts.flags.servers, Object.keys(SERVERS) as ServerName[], 'servers');
  let modes = list(opts.flags.modes, Object.keys(MODES) as ModeName[], 'modes');
  const wrkLongSec = seconds(opts.flags['wrk-long'], 'wrk-long');
  const wrkThreads = Number(opts.flags['wrk-threads']);
  if (!Number.isInteger(wrkThreads) || wrkThreads < 1) throw new Error(`--wrk-threads needs a whole number ≥ 1, got ${opts.flags['wrk-threads']}`);
  const notes: string[] = [];
  const wrk = opts.flags['no-wrk'] === true ? null : findWrk();
  if (!wrk) {
    const dropped = modes.filter((m) => MODES[m].generator === 'wrk');
    modes = modes.filter((m) => MODES[m].generator !== 'wrk');
    if (dropped.length)
      notes.push(
        opts.flags['no-wrk'] === true
          ? `--no-wrk: ran our generator only (skipped ${dropped.join(', ')})`
          : `wrk is not installed (apt-get install wrk): ran our generator only (skipped ${dropped.join(', ')})`,
      );
    io.log(notes.at(-1) ?? '');
  }
  if (wrkLongSec === 0) modes = modes.filter((m) => m !== 'wrk-long');
  const ctx: RunContext = { opts, io, wrk, wrkThreads, wrkLongSec, checks: [] };
  const runs: RunRecord[] = [];
  const rows: TailRow[] = [];
  // Rounds alternate: every server, every mode, one fresh server at a time; both orders flip every other round.
  for (let round = 1; round <= rounds; round++) {
    const flip = <T>(xs: T[]) => (round % 2 ? xs : [...xs].reverse());
    for (const name of flip(servers))
      for (const mode of flip(modes)) {
        const { run, row } = await measureOne(name, mode, round, rounds, ctx);
        runs.push(run);
        rows.push(row);
      }
  }
  const longRows: LongRow[] = [];
  if (seconds(opts.flags.long, 'long') > 0) {
    const roots: Array<string | undefined> = typeof opts.flags.checkouts === 'string' ? opts.flags.checkouts.split(',') : [undefined];
    const longServers = list(opts.flags['long-servers'], Object.keys(SERVERS) as ServerName[], 'long-servers');
    for (const name of longServers)
      for (const root of name === 'events' ? roots : [undefined]) {
        const { run, row } = await longRun(name, root, ctx);
        runs.push(run);
        longRows.push(row);
      }
  }

  const ratios: RatioResult[] = [];
  for (const name of servers)
    for (const mode of modes) {
      const mine = rows.filter((r) => r.server === SERVERS[name].label && r.mode === mode);
      const kinds = mine[0]?.printed ? (['printed', 'measured'] as const) : (['measured'] as const);
      for (const kind of kinds) {
        const each = mine.map((r) => r[kind]).filter((x) => x !== undefined);
        if (!each.length) continue;
        const values = each.map((x) => (x.p50 > 0 ? x.p99 / x.p50 : 0));
        const value = Math.round(median(values) * 100) / 100;
        const what =
          MODES[mode].generator === 'wrk'
            ? `${MODES[mode].label}, ${kind === 'printed' ? 'as wrk prints it' : 'measured (correction undone)'}`
            : MODES[mode].label;
        ratios.push({
          name: `p99 ÷ p50, ${SERVERS[name].label}, ${what}, ${opts.connections} conns`,
          value,
          target: TARGET_RATIO,
          better: 'lower',
          met: median(values) <= TARGET_RATIO,
          rounds: values.map((v) => Math.round(v * 100) / 100),
          detail: `p99 ${each.map((x) => x.p99).join(', ')} ms ÷ p50 ${each.map((x) => x.p50).join(', ')} ms${each.length > 1 ? ' (rounds)' : ''}`,
        });
      }
    }
  io.log(formatTailTable(rows, longRows, opts.connections));
  notes.push(
    "p99 ÷ p50 target ≤ 3 at 200 connections under either generator (issue 24, item 5); 'as wrk prints it' is from wrk's corrected histogram, 'measured' is the same run with the correction undone (bench/tail/wrk.ts)",
    'L = mean × rps ÷ connections: a closed loop of C connections has at most C requests in flight, so L ≤ 1 for latencies it really measured; L > 1 means the mean (and the percentiles) include samples nobody sent',
    "wrk's timeouts are responses slower than its --timeout (2 s): they are in no latency figure of wrk's, measured or printed",
  );
  return { runs, ratios, checks: ctx.checks, notes, tail: { rows, long: longRows, wrk: wrk ?? null } };
}

export default defineScenario({
  name: 'tail',
  description:
    "the tail (issue 24, item 5): p50, p99 and max of the bare no-op, the durability floor and cantons POST /events/snow-reports under our generator and under wrk (apt-get install wrk; without it, ours only), side by side in alternating rounds, a fresh server per run: ours after its warm-up on the same connections, ours with new connections opened in the window, wrk (its connections opened in the window), wrk after a wrk warm-up run, wrk for --wrk-long s; wrk's coordinated-omission correction undone from its full histogram (bench/tail/post.lua), Little's law as the check; then ours for --long s on cantons (each of --checkouts DIR,DIR) so WAL checkpoints fall in the window",
  defaults: { connections: 200, durationSec: 10 },
  flags: {
    rounds: { type: 'string', description: 'N alternating rounds; ratios are their medians', default: '2' },
    servers: { type: 'string', description: 'of noop,floor,events (default all)' },
    modes: { type: 'string', description: 'of ours,ours-new,wrk,wrk-warm,wrk-long (default all; the wrk ones need wrk: apt-get install wrk)' },
    'wrk-long': { type: 'string', description: 'S seconds of the long wrk run, which dilutes its start-up (0 skips it)', default: '30' },
    'wrk-threads': { type: 'string', description: 'wrk -t', default: '2' },
    'no-wrk': { type: 'boolean', description: 'our generator only, even where wrk is installed' },
    long: {
      type: 'string',
      description: 'S seconds of our generator on cantons after the rounds, WAL checkpoints inside the window (0 skips it)',
      default: '30',
    },
    'long-servers': { type: 'string', description: 'servers of the long run, of noop,floor,events', default: 'events' },
    checkouts: {
      type: 'string',
      description: 'DIR,DIR: the long run on cantons from each checkout (e.g. the commit before the WAL checkpointer), side by side',
    },
  },
  run,
});
