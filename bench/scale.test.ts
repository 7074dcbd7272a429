// The scale scenario's quick path with tiny sizes, every part: it seeds, measures, prints its per-size tables and
// `scale … largest ÷ smallest` lines, and keeps every measure at both sizes for the charts.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { gate } from '../kernel/testing/services.ts';
import scale, { SIZES, type ScaleResult } from './scenarios/scale.ts';

it('bench scale --sizes tiny: every part measured at both sizes, ratios and verdicts printed', await gate('etcd'), async () => {
  const lines: string[] = [];
  const result = (await scale.run(
    { connections: 4, durationSec: 0.3, warmupSec: 0.1, flags: { only: 'events,crowdfund,benchmark,cache,shop', sizes: 'tiny' } },
    { log: (line) => void lines.push(line), progress: false },
  )) as ScaleResult;
  const out = lines.join('\n');

  const failed = (result.checks ?? []).filter((c) => !c.pass);
  assert.deepEqual(failed, [], 'every check passes');
  for (const module of ['events', 'crowdfund', 'benchmark', 'cache', 'shop'] as const) {
    const measures = result.scale.filter((m) => m.module === module);
    assert.ok(measures.length > 0, `${module} has measures`);
    const [small, large] = [SIZES.tiny[module][0], SIZES.tiny[module].at(-1)];
    for (const m of measures) {
      if (m.name.startsWith('first list') && m.points.length === 0) continue; // a missing span is a note, not a failure
      assert.deepEqual(
        m.points.map((p) => p.size),
        [small, large],
        `${module} ${m.name} measured at both sizes`,
      );
    }
    assert.match(out, new RegExp(`^scale: ${module}$`, 'm'), `${module}'s per-size table printed`);
  }
  for (const name of [
    'events range query p50',
    'events stats server CPU per request',
    'events audit by index p99',
    'events ingest server CPU per request',
    'crowdfund GET /projects deep page p50',
    'crowdfund hot-thread votes per second',
    'benchmark last callback → report per document',
    'cache first list per key',
    'cache propagation to 64 watchers p99',
    'shop get-product p50',
  ])
    assert.match(out, new RegExp(`^scale ${name} largest ÷ smallest = [\\d.-]+`, 'm'), name);
  // Judged ratios carry their target and direction: a cost at most 1.2×, a rate at least 0.83×.
  const judged = (result.ratios ?? []).filter((r) => r.met !== undefined);
  assert.ok(judged.length > 20);
  for (const r of judged) assert.ok((r.better === 'lower' && r.target === 1.2) || (r.better === 'higher' && r.target === 0.83), r.name);
  assert.match(out, /^scale cache first list per key largest ÷ smallest = [\d.]+ {2}target ≤ 1\.2: (MET|NOT MET)$/m);
});
