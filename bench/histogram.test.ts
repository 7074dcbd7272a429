// Histogram: percentiles within HDR's 3-digit error, exact min/max/avg, clamping, the empty case.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram } from './histogram.ts';

const near = (actual: number, expected: number, relative = 0.01) =>
  assert.ok(Math.abs(actual - expected) <= expected * relative, `${actual} not within ${relative * 100}% of ${expected}`);

test('percentiles of 1..1000 ms are within 1% and min/max/avg are exact', () => {
  const h = new Histogram();
  for (let i = 1000; i >= 1; i--) h.record(i);
  const s = h.summary();
  assert.equal(s.count, 1000);
  assert.equal(s.min, 1);
  assert.equal(s.max, 1000);
  assert.equal(s.avg, 500.5);
  near(s.p50, 500);
  near(s.p90, 900);
  near(s.p95, 950);
  near(s.p99, 990);
  assert.ok(s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max);
});

test('sub-millisecond and very large values keep their order and clamp to min and max', () => {
  const h = new Histogram();
  h.record(0.05);
  h.record(0.2);
  h.record(60_000);
  assert.equal(h.percentile(0), 0.05);
  assert.equal(h.percentile(100), 60_000);
  near(h.percentile(50), 0.2, 0.01);
  h.record(-1); // a clock hiccup must not break the buckets
  assert.equal(h.count, 4);
});

test('an empty histogram summarises to zeros', () => {
  assert.deepEqual(new Histogram().summary(), { count: 0, min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0 });
});

test('reset empties it for the next interval', () => {
  const h = new Histogram();
  h.record(500);
  h.reset();
  assert.deepEqual(h.summary(), { count: 0, min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0 });
  h.record(2);
  h.record(3);
  assert.deepEqual([h.summary().p50, h.summary().max], [2, 3]); // the 500 left no trace in the buckets either
});
