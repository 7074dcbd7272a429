// Scale, shop: the shop scenario's own loop and list (bench/scenarios/shop.ts, seeded by the module's seed hook) on the
// SQL store at the smallest and largest catalogue, read back as per-size measures.
import shopScenario from '../scenarios/shop.ts';
import type { BenchIO, BenchOptions, CheckResult, RunRecord } from '../scenario.ts';
import type { ScaleSeries } from './series.ts';

const STEPS = { loop: ['create-product', 'get-product', 'create-order', 'get-order'], list: ['list-title', 'list-page'] } as const;

export async function scaleShop(
  sizes: number[],
  series: ScaleSeries,
  opts: BenchOptions,
  io: BenchIO,
): Promise<{ runs: RunRecord[]; checks: CheckResult[]; notes: string[] }> {
  const result = await shopScenario.run({ ...opts, flags: { stores: 'sql', sizes: sizes.join(','), parts: 'loop,list', rounds: '1' } }, io);
  for (const run of result.runs) {
    // "sql store, 100,000 products" (the loop) and "…, list".
    const m = /^sql store, ([\d,]+) products(, list)?$/.exec(run.label);
    if (!m) continue;
    const size = Number(m[1].replace(/,/g, ''));
    const part = m[2] ? 'list' : 'loop';
    for (const step of STEPS[part]) series.addRun('shop', step, 'products', size, run, step);
    series.add({ module: 'shop', name: `${part} server CPU per request`, unit: 'µs', sizeUnit: 'products', kind: 'request' }, size, run.serverCpuUsPerOk);
  }
  return { runs: result.runs.map((r) => ({ ...r, label: `shop ${r.label}` })), checks: result.checks ?? [], notes: result.notes ?? [] };
}
