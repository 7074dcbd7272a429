// `npm run smoke -- benchmark` against a running instance: one benchmark on the built-in target, to its CSV.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchmarkSmoke } from './smoke.ts';
import { startBenchmarkApp } from './testing/support.ts';

test('the smoke passes against the app, printing each step', async () => {
  const app = await startBenchmarkApp();
  try {
    const lines: string[] = [];
    await benchmarkSmoke(app.url, (l) => lines.push(l));
    assert.equal(lines.length, 4);
    assert.match(lines[3], /report\.csv → 3 documents$/);
  } finally {
    await app.close();
  }
});

test('the smoke fails, naming the step, against something that is not the app', async () => {
  const target = await startBenchmarkApp({ MODULES: 'benchmark.target' });
  try {
    await assert.rejects(
      benchmarkSmoke(target.url, () => {}),
      /smoke benchmark: GET \/api\/v1\/health should answer/,
    );
  } finally {
    await target.close();
  }
});
