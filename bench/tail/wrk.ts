// wrk (https://github.com/wg/wrk, Debian's `apt-get install wrk`) as a child process: run it with bench/tail/post.lua,
// parse what it prints, and undo the coordinated-omission correction it applies to its latency histogram.
//
// wrk 4.x, after the run (src/wrk.c main, src/stats.c stats_correct), takes interval = runtime ÷ (requests ÷
// connections) — the time one request of a connection "should" take — and for every recorded latency n ≥ 2·interval
// adds a synthetic sample at n − interval, n − 2·interval, … (down to > interval). Its mean and percentiles are of
// that corrected histogram: in a closed loop (each connection waits for its answer) they describe requests nobody
// sent. post.lua's done() prints the whole corrected histogram (and the counts wrk leaves out of its summary),
// from which `uncorrect` recovers the latencies wrk really measured, exactly: the correction only ever adds to
// buckets below the one it reads, so walking down from the maximum takes each addition back out.
// wrk also never records a latency over its --timeout (default 2 s): it counts it as a "timeout" instead.
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const POST_LUA = join(dirname(fileURLToPath(import.meta.url)), 'post.lua');

/** wrk's executable on PATH (or /usr/bin/wrk), or null where it is not installed. */
export function findWrk(env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const file = join(dir, 'wrk');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return null;
}

/** Latencies in ms, computed the way wrk computes them (rank = round(p/100 · count + 0.5), on µs buckets). */
export interface WrkLatency {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface WrkResult {
  threads: number;
  connections: number;
  /** Wall time wrk measured, s. */
  runtimeSec: number;
  /** Responses (wrk's "N requests in …"). */
  requests: number;
  /** wrk's "Requests/sec". */
  rps: number;
  /** What wrk printed: mean, max and the --latency percentiles, ms, of its corrected histogram. */
  reported: { mean: number; stdev: number; max: number; p50: number; p75: number; p90: number; p99: number };
  /** "Socket errors": timeout = responses slower than --timeout (2 s), which are in no latency figure. */
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
  /**
   * From post.lua's done(), when wrk ran it: the interval wrk corrected with (µs), the corrected histogram's
   * count, and the latencies it measured (the correction undone); null without those lines.
   */
  raw: {
    intervalUs: number;
    correctedCount: number;
    /** Samples the correction added: correctedCount − latency.count. */
    synthetic: number;
    latency: WrkLatency;
    /** The corrected histogram as dumped, summarised the same way (its p50/p75/p90/p99/max are wrk's printed ones). */
    corrected: WrkLatency;
    /** Measured latencies ≥ 500 ms, plus the timeouts (≥ 2 s, not in the histogram). */
    over500ms: number;
    /** The recovered count is requests − timeouts, and the corrected histogram's mean is wrk's own: the dump was read right. */
    consistent: boolean;
  } | null;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "125.99ms", "2.00s", "812.00us" → ms. */
export function parseWrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk time: "${text}"`);
  return Number(m[1]) * TIME_UNITS[m[2]];
}

/** A histogram as two parallel arrays of µs values (ascending) and counts. */
export interface Buckets {
  values: number[];
  counts: number[];
}

/** wrk's stats_correct(stats, interval), on a copy: for tests, and to check `uncorrect` against. */
export function correct(h: Buckets, intervalUs: number): Buckets {
  const data = new Map(h.values.map((v, i) => [v, h.counts[i]]));
  const max = h.values.at(-1) ?? 0;
  for (const [n, count] of h.values.map((v, i) => [v, h.counts[i]] as const)) {
    if (n < intervalUs * 2 || n > max) continue;
    for (let m = n - intervalUs; count && m > intervalUs; m -= intervalUs) data.set(m, (data.get(m) ?? 0) + count);
  }
  return fromMap(data);
}

/** The histogram before wrk's correction with `intervalUs`. */
export function uncorrect(h: Buckets, intervalUs: number): Buckets {
  const added = new Map<number, number>();
  const raw = new Map<number, number>();
  for (let i = h.values.length - 1; i >= 0; i--) {
    const n = h.values[i];
    const own = h.counts[i] - (added.get(n) ?? 0);
    if (own < 0)
      throw new Error(`bucket ${n} µs holds ${h.counts[i]} but the correction put ${added.get(n)} there: not wrk's correction with interval ${intervalUs}`);
    if (own > 0) raw.set(n, own);
    if (n < intervalUs * 2) continue;
    for (let m = n - intervalUs; own && m > intervalUs; m -= intervalUs) added.set(m, (added.get(m) ?? 0) + own);
  }
  return fromMap(raw);
}

function fromMap(data: Map<number, number>): Buckets {
  const values = [...data.keys()].filter((v) => data.get(v)! > 0).sort((a, b) => a - b);
  return { values, counts: values.map((v) => data.get(v)!) };
}

/** wrk's own figures of a histogram (stats_mean, stats_percentile), in ms. */
export function summarize(h: Buckets): WrkLatency {
  const count = h.counts.reduce((a, c) => a + c, 0);
  const sum = h.values.reduce((a, v, i) => a + v * h.counts[i], 0);
  const at = (p: number) => {
    const rank = Math.round((p / 100) * count + 0.5);
    let total = 0;
    for (let i = 0; i < h.values.length; i++) {
      total += h.counts[i];
      if (total >= rank) return h.values[i];
    }
    return 0;
  };
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count,
    mean: count ? ms(sum / count) : 0,
    min: ms(h.values[0] ?? 0),
    p50: ms(at(50)),
    p75: ms(at(75)),
    p90: ms(at(90)),
    p95: ms(at(95)),
    p99: ms(at(99)),
    max: ms(h.values.at(-1) ?? 0),
  };
}

/** wrk's standard output (with --latency, and post.lua's lines when present). */
export function parseWrk(text: string): WrkResult {
  const need = (re: RegExp, what: string) => {
    const m = re.exec(text);
    if (!m) throw new Error(`wrk output without ${what}:\n${text.slice(0, 2000)}`);
    return m;
  };
  const tc = need(/(\d+) threads and (\d+) connections/, 'threads and connections');
  const lat = need(/^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+%/m, 'the Latency line');
  const pct = (p: number) => parseWrkTime(need(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm'), `the ${p}% line (run wrk with --latency)`)[1]);
  const done = need(/(\d+) requests in (\S+),/, 'the requests line');
  const rps = Number(need(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec')[1]);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const status = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const connections = Number(tc[2]);
  const requests = Number(done[1]);
  const result: WrkResult = {
    threads: Number(tc[1]),
    connections,
    runtimeSec: parseWrkTime(done[2]) / 1000,
    requests,
    rps,
    reported: {
      mean: parseWrkTime(lat[1]),
      stdev: parseWrkTime(lat[2]),
      max: parseWrkTime(lat[3]),
      p50: pct(50),
      p75: pct(75),
      p90: pct(90),
      p99: pct(99),
    },
    errors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
      status: Number(status?.[1] ?? 0),
    },
    raw: null,
  };
  const summary = /^tail-wrk summary (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/m.exec(text);
  const stats = /^tail-wrk stats (\d+) (\d+) (\d+) ([\d.]+)$/m.exec(text);
  if (!summary || !stats) return result;
  const runtimeUs = Number(summary[1]);
  const complete = Number(summary[2]);
  const timeout = Number(summary[8]);
  const corrected: Buckets = { values: [], counts: [] };
  for (const line of text.matchAll(/^tail-wrk hist (.*)$/gm))
    for (const pair of line[1].trim().split(' ')) {
      const [v, c] = pair.split(':').map(Number);
      corrected.values.push(v);
      corrected.counts.push(c);
    }
  // src/wrk.c: interval = runtime_us / (complete / connections), both integer divisions; no correction below one request per connection.
  const perConnection = Math.floor(complete / connections);
  const intervalUs = perConnection > 0 ? Math.floor(runtimeUs / perConnection) : 0;
  const raw = intervalUs > 0 ? uncorrect(corrected, intervalUs) : corrected;
  const latency = summarize(raw);
  const correctedCount = Number(stats[1]);
  const correctedMeanUs = Number(stats[4]);
  const printed = summarize(corrected);
  const dumpedMeanUs = printed.mean * 1000;
  let over = timeout;
  for (let i = raw.values.length - 1; i >= 0 && raw.values[i] >= 500_000; i--) over += raw.counts[i];
  result.raw = {
    intervalUs,
    correctedCount,
    synthetic: correctedCount - latency.count,
    latency,
    corrected: printed,
    over500ms: over,
    consistent:
      latency.count === complete - timeout &&
      corrected.counts.reduce((a, c) => a + c, 0) === correctedCount &&
      Math.abs(dumpedMeanUs - correctedMeanUs) <= 1 + correctedMeanUs * 1e-6,
  };
  return result;
}

export interface WrkRun {
  result: WrkResult;
  /** Everything wrk printed (stdout and stderr). */
  output: string;
  /** CPU wrk used, ms (user + system, from this process's reaped-children counters); null off Linux. */
  cpuMs: number | null;
  elapsedMs: number;
}

/** User + system CPU of this process's waited-for children so far, ms (/proc/self/stat cutime + cstime). */
function childrenCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

/** `wrk -t T -c C -d S --latency -s post.lua URL -- RUN`: resolves once it exits, its output parsed. */
export async function runWrk(opts: { wrk: string; url: string; connections: number; durationSec: number; threads?: number; script?: string }): Promise<WrkRun> {
  const args = [
    `-t${opts.threads ?? 2}`,
    `-c${opts.connections}`,
    `-d${Math.max(1, Math.round(opts.durationSec))}s`,
    '--latency',
    '-s',
    opts.script ?? POST_LUA,
    opts.url,
    '--',
    // post.lua's X-Trace-Id prefix: unique per run, so a second run against the same server sends new ids.
    `wrk-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
  ];
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const child = spawn(opts.wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  const elapsedMs = performance.now() - t0;
  const cpu1 = childrenCpuMs();
  if (code !== 0) throw new Error(`${opts.wrk} ${args.join(' ')} exited with ${code}:\n${output.slice(0, 2000)}`);
  return { result: parseWrk(output), output, cpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0, elapsedMs };
}
