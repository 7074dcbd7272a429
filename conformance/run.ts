// The conformance matrix: each topology launched in turn, each module's checks run through its gateway,
// then a short load phase that measures what the topology costs; a failing check ends its module's cell.
import { launch, type Running } from './launch.ts';
import { suites } from './suite/index.ts';
import type { ModuleSuite } from './suite/types.ts';
import type { Topology } from './topologies.ts';

export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  /** Why the check does not apply to this topology; it was not run. */
  notApplicable?: string;
}

export interface Load {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p99Ms: number;
  /** CPU of every process of the topology during the phase, per request. */
  cpuMsPerRequest: number;
}

export interface Cell {
  module: string;
  ok: boolean;
  /** The first failure, when not ok. */
  failure?: string;
  checks: CheckResult[];
  load?: Load;
}

export interface TopologyResult {
  id: number;
  name: string;
  summary: string;
  processes: number;
  startSeconds: number;
  /** CPU of all its processes while nothing is asked of them (relays and sweepers polling), in % of one core. */
  idleCpuPercent: number;
  /** Set when the topology did not start: every cell of it fails with this. */
  failure?: string;
  cells: Cell[];
}

export interface Matrix {
  startedAt: string;
  seconds: number;
  topologies: TopologyResult[];
}

export interface RunOptions {
  /** Seconds of each module's load phase; 0 skips it. */
  loadSeconds: number;
  concurrency: number;
  log(line: string): void;
  logLevel?: string;
}

export async function runMatrix(topologies: Topology[], modules: string[], opts: RunOptions): Promise<Matrix> {
  const started = Date.now();
  const results: TopologyResult[] = [];
  for (const t of topologies) {
    opts.log(`topology ${t.id}: ${t.summary}`);
    const t0 = Date.now();
    let running: Running | undefined;
    const result: TopologyResult = { id: t.id, name: t.name, summary: t.summary, processes: 0, startSeconds: 0, idleCpuPercent: 0, cells: [] };
    results.push(result);
    try {
      running = await launch(t, { log: (line) => opts.log(`  ${line}`), logLevel: opts.logLevel });
      result.processes = running.processes.length;
      result.startSeconds = (Date.now() - t0) / 1000;
      opts.log(`  ${result.processes} processes up in ${result.startSeconds.toFixed(1)} s, gateway ${running.gateway}`);
      result.idleCpuPercent = await idleCpu(running);
      for (const suite of suites.filter((s) => modules.includes(s.module))) result.cells.push(await runModule(suite, running, opts));
    } catch (err) {
      result.failure = `did not start: ${firstLine(err)}`;
      opts.log(`  ${result.failure}`);
      for (const m of modules) if (!result.cells.some((c) => c.module === m)) result.cells.push({ module: m, ok: false, failure: result.failure, checks: [] });
    } finally {
      await running?.stop();
    }
  }
  return { startedAt: new Date(started).toISOString(), seconds: (Date.now() - started) / 1000, topologies: results };
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0];

async function runModule(suite: ModuleSuite, d: Running, opts: RunOptions): Promise<Cell> {
  const cell: Cell = { module: suite.module, ok: true, checks: [] };
  for (const check of suite.checks) {
    const applies = check.appliesTo?.(d) ?? true;
    if (applies !== true) {
      cell.checks.push({ name: check.name, ok: true, ms: 0, notApplicable: applies });
      opts.log(`  - ${suite.module}: ${check.name}: not applicable (${applies})`);
      continue;
    }
    const t0 = Date.now();
    try {
      await check.run(d);
      cell.checks.push({ name: check.name, ok: true, ms: Date.now() - t0 });
      opts.log(`  ✓ ${suite.module}: ${check.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (err) {
      cell.checks.push({ name: check.name, ok: false, ms: Date.now() - t0, error: firstLine(err) });
      cell.ok = false;
      cell.failure = `${check.name}: ${firstLine(err)}`;
      opts.log(`  ✗ ${suite.module}: ${cell.failure}`);
      return cell;
    }
  }
  if (opts.loadSeconds > 0) {
    try {
      cell.load = await loadPhase(suite, d, opts);
      const l = cell.load;
      opts.log(
        `  ${suite.module} load: ${l.rps.toFixed(0)} req/s, p99 ${l.p99Ms.toFixed(1)} ms, ${l.cpuMsPerRequest.toFixed(2)} ms CPU/request, ${l.errors} errors`,
      );
      if (l.errors) {
        cell.ok = false;
        cell.failure = `load phase: ${l.errors} of ${l.requests} requests failed`;
      }
    } catch (err) {
      cell.ok = false;
      cell.failure = `load phase: ${firstLine(err)}`;
    }
  }
  return cell;
}

/** What the processes cost doing nothing, over two seconds once start-up has settled. */
async function idleCpu(d: Running): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const cpu0 = d.cpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return ((d.cpuSeconds() - cpu0) / 2) * 100;
}

/** `concurrency` workers firing the module's request through the gateway for `loadSeconds`. */
async function loadPhase(suite: ModuleSuite, d: Running, opts: RunOptions): Promise<Load> {
  const request = await suite.load(d);
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const cpu0 = d.cpuSeconds();
  const t0 = performance.now();
  const end = t0 + opts.loadSeconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const r = request(n++);
      const start = performance.now();
      try {
        const res = await fetch(`${d.gateway}${r.path}`, { method: r.method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.status >= 400) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = d.cpuSeconds() - cpu0;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0,
    cpuMsPerRequest: (cpu * 1000) / Math.max(1, latencies.length),
  };
}
