// Our load generator against autocannon on the bare Koa no-op: client CPU per request, each in its own process, rounds alternating.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { machineCpu, otherCpuPercent } from '../machine.ts';
import type { DriverInput, DriverOutput, RequestKind, Tool } from '../loadgen/driver.ts';
import { defineScenario, median, roundsFlag, type BenchIO, type BenchOptions, type RatioResult, type RunRecord } from '../scenario.ts';
import { ROOT, spawnBaseline, stopServers, type ServerProcess } from '../servers.ts';

const TOOLS: Tool[] = ['ours', 'autocannon', 'request-load'];
const KINDS: RequestKind[] = ['static', 'ingest'];

async function drive(input: DriverInput): Promise<DriverOutput> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/loadgen/driver.ts'), JSON.stringify(input)], {
    cwd: ROOT,
    timeout: (input.durationSec + input.warmupSec + 60) * 1000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as DriverOutput;
}

/** One generator run as a results row; what the driver does not report (p95, max) is left out as NaN. */
async function measureTool(label: string, server: ServerProcess, tool: Tool, request: RequestKind, opts: BenchOptions): Promise<RunRecord> {
  const loadAverage = Math.round(os.loadavg()[0] * 100) / 100;
  const [cpu0, machine0, t0] = [server.cpuMs(), machineCpu(), performance.now()];
  const out = await drive({ tool, request, url: server.url, connections: opts.connections, durationSec: opts.durationSec, warmupSec: opts.warmupSec });
  const [cpu1, machine1, wall] = [server.cpuMs(), machineCpu(), performance.now() - t0];
  // The server's CPU covers the warm-up too, so it is taken per request over both; the no-op's cost does not drift.
  const used = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  const seconds = out.elapsedMs / 1000;
  const errors = out.requests - out.ok;
  const served = out.ok * (1 + opts.warmupSec / opts.durationSec); // the warm-up ran at about the same rate
  return {
    label,
    name: label,
    url: server.url,
    servers: [server.name],
    connections: opts.connections,
    loadAverage,
    // Over the child's whole life (start-up and warm-up too): the server's and the child's CPU are known for all of it.
    otherCpuPercent: otherCpuPercent(machine0, machine1, used === null ? null : used + out.totalCpuUs / 1000, wall),
    elapsedMs: out.elapsedMs,
    iterations: out.requests,
    requests: out.requests,
    ok: out.ok,
    rps: Math.round(out.requests / seconds),
    okRps: Math.round(out.ok / seconds),
    statuses: { 201: out.ok },
    errors: { total: errors, status: errors, status5xx: 0, network: 0, assertion: 0, samples: {} },
    latency: { count: out.requests, min: NaN, max: NaN, avg: NaN, p50: out.p50, p90: NaN, p95: NaN, p99: out.p99 },
    steps: {},
    timeline: [],
    cutOff: false,
    warmup: { requests: 0, ok: 0, errors: 0 },
    loadgenCpuPercent: Math.round((out.cpuUs / 1000 / out.elapsedMs) * 100),
    loadgenCpuUsPerRequest: out.requests ? Math.round(out.cpuUs / out.requests) : null,
    serverCpuPercent: used === null ? null : Math.round((used / (out.elapsedMs * (1 + opts.warmupSec / opts.durationSec))) * 100),
    serverCpuUsPerOk: used === null || served === 0 ? null : Math.round((used * 1000) / served),
  };
}

const round2 = (v: number) => Math.round(v * 100) / 100;

function perRound(name: string, a: RunRecord[], b: RunRecord[], value: (r: RunRecord) => number | null): RatioResult {
  const each = a.map((x, i) => (value(x) ?? NaN) / (value(b[i]) ?? NaN));
  const med = (rs: RunRecord[]) => Math.round(median(rs.map((r) => value(r) ?? NaN)));
  return { name, value: round2(median(each)), detail: `medians ${med(a)} ÷ ${med(b)}; per round ${each.map(round2).join(', ')}` };
}

async function run(opts: BenchOptions, io: BenchIO) {
  const rounds = roundsFlag(opts);
  const kinds = typeof opts.flags.requests === 'string' ? (opts.flags.requests.split(',') as RequestKind[]) : KINDS;
  if (kinds.some((k) => !KINDS.includes(k))) throw new Error(`--requests: use ${KINDS.join(',')}`);
  const series = new Map<string, RunRecord[]>();
  const server = await spawnBaseline('noop-post');
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const kind of kinds) {
        // Alternate who goes first, so none always runs on a machine another just warmed or tired.
        for (const tool of round % 2 ? TOOLS : [...TOOLS].reverse()) {
          const label = `${tool}, ${kind} POST${rounds > 1 ? ` #${round}` : ''}`;
          io.log(`round ${round}/${rounds}: ${label} …`);
          const r = await measureTool(label, server, tool, kind, opts);
          const key = `${tool} ${kind}`;
          series.set(key, [...(series.get(key) ?? []), r]);
        }
      }
    }
  } finally {
    await stopServers(server);
  }
  const runs = [...series.values()].flat();
  const ratios: RatioResult[] = [];
  for (const kind of kinds) {
    const ours = series.get(`ours ${kind}`)!;
    for (const tool of ['autocannon', 'request-load'] as const) {
      const other = series.get(`${tool} ${kind}`)!;
      ratios.push(perRound(`${kind}: ${tool} ÷ ours, client CPU per request`, other, ours, (r) => r.loadgenCpuUsPerRequest));
      ratios.push(perRound(`${kind}: ${tool} ÷ ours, requests per second`, other, ours, (r) => r.okRps));
      ratios.push(perRound(`${kind}: ${tool} ÷ ours, server CPU per request`, other, ours, (r) => r.serverCpuUsPerOk));
    }
  }
  const notes = [
    `each generator runs in its own child process (bench/loadgen/driver.ts), ${opts.warmupSec} s warm-up then ${opts.durationSec} s measured on fresh connections; "gen µs/req" is that process's user + system CPU (process.cpuUsage) ÷ the requests it finished`,
    'ours (runLoad) and request-load (autocannon through bench/request-load.ts) parse every JSON response and record two histograms per request, as the scenarios need; autocannon bare keeps its one histogram and reads no bodies',
    'server CPU per request covers warm-up and measurement alike (read from /proc at the start and end of each child)',
  ];
  return { runs, ratios, notes };
}

export default defineScenario({
  name: 'loadgen',
  description:
    'our load generator vs autocannon (bare, and through bench/loadgen/request-load.ts) on the bare Koa no-op, client CPU per request; --requests static,ingest --rounds N (default 5, alternating)',
  defaults: { connections: 200, durationSec: 10 },
  flags: {
    requests: { type: 'string', description: 'request kinds, of static,ingest (default both)' },
    rounds: { type: 'string', description: 'N alternating rounds', default: '5' },
  },
  run,
});
