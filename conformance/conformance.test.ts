// The conformance matrix on topologies 1–3 (one process embedded, one process on the servers, split over HTTP):
// every module's behaviour suite passes in each. Topologies 4 and 5 run on a developer machine (npm run conformance).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { gate } from '../kernel/testing/index.ts';
import { allPassed, renderText } from './report.ts';
import { runMatrix } from './run.ts';
import { MODULE_NAMES, TOPOLOGIES } from './topologies.ts';

it('the conformance matrix passes on topologies 1, 2 and 3', await gate('postgres', 'redis', 'etcd'), async () => {
  const lines: string[] = [];
  const matrix = await runMatrix(
    TOPOLOGIES.filter((t) => t.id <= 3),
    [...MODULE_NAMES],
    { loadSeconds: 1, concurrency: 10, log: (line) => lines.push(line) },
  );
  assert.ok(allPassed(matrix), `${renderText(matrix)}\n\n${lines.join('\n')}`);
  for (const t of matrix.topologies)
    assert.deepEqual(
      t.cells.map((c) => c.module),
      [...MODULE_NAMES],
      `topology ${t.id} ran every module`,
    );
});
