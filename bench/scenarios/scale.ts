// Each module's measures at growing stored sizes, seeded straight into its database (or etcd) before its server starts:
// per-request costs should stay flat (≤ 1.2× from the smallest size to the largest), whole-set work no worse than linear.
import { check, defineScenario, type BenchIO, type BenchOptions, type CheckResult, type RunRecord, type ScenarioResult } from '../scenario.ts';
import { scaleBenchmark } from '../scale/benchmark.ts';
import { scaleCache } from '../scale/cache.ts';
import { scaleCrowdfund } from '../scale/crowdfund.ts';
import { scaleEvents } from '../scale/events.ts';
import { SCALE_TARGET, ScaleSeries, type ScaleMeasure } from '../scale/series.ts';
import { scaleShop } from '../scale/shop.ts';

const PARTS = ['events', 'crowdfund', 'benchmark', 'cache', 'shop'] as const;
type Part = (typeof PARTS)[number];

/** Stored sizes per part: full (the issue's), small (a development run), tiny (the test). */
export const SIZES: Record<'full' | 'small' | 'tiny', Record<Part, number[]>> = {
  full: { events: [10_000, 1_000_000, 5_000_000], crowdfund: [1_000, 200_000], benchmark: [1_000, 10_000], cache: [10_000, 100_000], shop: [100, 100_000] },
  small: { events: [10_000, 200_000], crowdfund: [1_000, 20_000], benchmark: [100, 500], cache: [1_000, 10_000], shop: [100, 5_000] },
  tiny: { events: [400, 2_000], crowdfund: [50, 500], benchmark: [50, 200], cache: [50, 500], shop: [100, 500] },
};

/** What the stored result carries beside the usual: every measure at every size (bench/charts.ts draws them in the report). */
export interface ScaleResult extends ScenarioResult {
  scale: ScaleMeasure[];
}

async function run(opts: BenchOptions, io: BenchIO): Promise<ScaleResult> {
  const only = String(opts.flags.only ?? PARTS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = only.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (bad.length) throw new Error(`--only takes ${PARTS.join(',')}; got ${bad.join(',')}`);
  const preset = String(opts.flags.sizes ?? 'full');
  if (!(preset in SIZES)) throw new Error(`--sizes takes full, small or tiny; got ${preset}`);
  const sizes = SIZES[preset as keyof typeof SIZES];
  const series = new ScaleSeries();
  const runs: RunRecord[] = [];
  const checks: CheckResult[] = [];
  const notes: string[] = [
    `sizes: ${only.map((p) => `${p} ${sizes[p as Part].map((n) => n.toLocaleString('en')).join(' / ')}`).join('; ')}`,
    `targets: per-request costs (p50, p99, server CPU per request) at most ${SCALE_TARGET}× from the smallest size to the largest; whole-set work (a report, a first list) given per item, so at most ${SCALE_TARGET}× means no worse than linear; "info" rows are shown, not judged`,
  ];
  const parts: Record<Part, () => Promise<{ runs: RunRecord[]; checks: CheckResult[]; notes?: string[] }>> = {
    events: () => scaleEvents(sizes.events, series, opts, io),
    crowdfund: () => scaleCrowdfund(sizes.crowdfund, series, opts, io),
    benchmark: () => scaleBenchmark(sizes.benchmark, series, io),
    cache: () => scaleCache(sizes.cache, series, opts, io, typeof opts.flags['etcd-url'] === 'string' ? opts.flags['etcd-url'] : undefined),
    shop: () => scaleShop(sizes.shop, series, opts, io),
  };
  for (const part of PARTS) {
    if (!only.includes(part)) continue;
    // One part failing (a server that would not start, a service missing) is a failed check; the others still run.
    try {
      const r = await parts[part]();
      runs.push(...r.runs);
      checks.push(...r.checks);
      notes.push(...(r.notes ?? []));
    } catch (err) {
      io.log(`${part} failed: ${(err as Error).stack ?? err}`);
      checks.push(check(`${part}: the part ran to its end`, false, (err as Error).message.split('\n')[0]));
    }
    io.log(series.format(part));
  }
  io.log(`\n=== scale, all parts ===${series.format()}`);
  return { runs, ratios: series.ratios(), checks, notes, scale: series.measures };
}

export default defineScenario({
  name: 'scale',
  description:
    'each measure at growing stored sizes, seeded fast: events range/stats/audit/ingest at 10k, 1M, 5M events; crowdfund list, deep page, project with 100 threads, hot-thread votes at 1k and 200k projects; one benchmark of 1,000 and 10,000 documents (BENCHMARK_MAX_DOCUMENTS=10000) to its report; cache start-up, cached GET and propagation at 10k and 100k etcd keys; shop loop and list at 100 and 100k products. Prints `scale <measure> largest ÷ smallest = R` (target ≤ 1.2) beside each per-size table',
  defaults: { connections: 10, durationSec: 5 },
  flags: {
    only: { type: 'string', description: `parts, of ${PARTS.join(',')} (default all)` },
    sizes: { type: 'string', description: 'full (the issue sizes), small (a development run) or tiny (the test)', default: 'full' },
    'etcd-url': { type: 'string', description: 'a running etcd for the cache part, instead of starting one' },
  },
  run,
});
