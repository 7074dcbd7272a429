// The tail scenario: wrk's output parsed and its correction undone (on a captured run), the TCP counters read, and a tiny run against the bare no-op.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { stopAllServers } from './servers.ts';
import tail from './scenarios/tail.ts';
import { little, type TailRow } from './tail/report.ts';
import { parseProcNet } from './tail/tcp.ts';
import { correct, findWrk, parseWrk, parseWrkTime, summarize, uncorrect, type Buckets } from './tail/wrk.ts';

// `wrk -t2 -c200 -d2s --latency -s bench/tail/post.lua` against the bare no-op (wrk 4.1.0, Debian), as printed.
const FIXTURE = gunzipSync(readFileSync(join(import.meta.dirname, 'tail/fixtures/wrk-4.1-noop-200c-2s.txt.gz'))).toString('utf8');

test('parseWrkTime reads every unit wrk prints', () => {
  assert.equal(parseWrkTime('812.00us'), 0.812);
  assert.equal(parseWrkTime('14.30ms'), 14.3);
  assert.equal(parseWrkTime('1.58s'), 1580);
  assert.equal(parseWrkTime('2.00m'), 120_000);
  assert.throws(() => parseWrkTime('1.5 s'));
});

test("wrk's summary as printed, from a captured run", () => {
  const r = parseWrk(FIXTURE);
  assert.equal(r.threads, 2);
  assert.equal(r.connections, 200);
  assert.equal(r.requests, 16962);
  assert.equal(r.rps, 8416.88);
  assert.equal(r.runtimeSec, 2.02);
  assert.deepEqual(r.reported, { mean: 186.27, stdev: 367.89, max: 2000, p50: 14.3, p75: 109.81, p90: 748.49, p99: 1580 });
  assert.deepEqual(r.errors, { connect: 0, read: 0, write: 0, timeout: 0, status: 0 });
});

test("the dumped histogram reproduces wrk's printed figures, and undoing the correction leaves exactly the responses it measured", () => {
  const r = parseWrk(FIXTURE);
  const raw = r.raw!;
  assert.ok(raw, 'post.lua lines parsed');
  assert.equal(raw.consistent, true);
  // src/wrk.c: 2 015 237 µs ÷ (16 962 ÷ 200 = 84) requests per connection.
  assert.equal(raw.intervalUs, 23990);
  assert.equal(raw.correctedCount, 23229);
  assert.equal(raw.latency.count, r.requests - r.errors.timeout);
  assert.equal(raw.synthetic, 23229 - 16962);
  // The corrected histogram as dumped is the one wrk printed (to its 2 printed decimals).
  assert.equal(Math.round(raw.corrected.p50 * 100) / 100, r.reported.p50);
  assert.equal(Math.round(raw.corrected.p99 / 10) * 10, r.reported.p99);
  assert.equal(Math.round(raw.corrected.mean * 100) / 100, r.reported.mean);
  // What it measured: a p99 of ≈ 112 ms, not 1.58 s; the maximum is the same real request.
  assert.equal(raw.latency.p50, 12.594);
  assert.equal(raw.latency.p99, 111.543);
  assert.equal(raw.latency.max, 1998.23);
  assert.equal(raw.over500ms, 122);
  // Little's law: the printed mean is impossible for 200 connections, the measured one is not.
  assert.ok(little(r.reported.mean, r.rps, r.connections) > 7);
  assert.ok(little(raw.latency.mean, r.rps, r.connections) <= 1);
});

test('a histogram whose dump does not add up is reported inconsistent, and wrong output is refused', () => {
  const bad = FIXTURE.replace(/^tail-wrk summary (\d+) (\d+)/m, (_, d, n) => `tail-wrk summary ${d} ${Number(n) + 1}`);
  assert.notEqual(parseWrk(bad).raw?.consistent, true);
  assert.equal(parseWrk(FIXTURE.replace(/^tail-wrk.*$/gm, '')).raw, null);
  assert.throws(() => parseWrk('unable to connect to 127.0.0.1:9 Connection refused'), /without threads and connections/);
  assert.throws(() => parseWrk(FIXTURE.replace(/^\s+99%.*$/m, '')), /the 99% line/);
});

test("correct is wrk's stats_correct and uncorrect its exact inverse", () => {
  // interval 10: a 35 gets synthetic 25 and 15 (down to > 10); a 19 is below 2 × 10 and gets none.
  assert.deepEqual(correct({ values: [5, 19, 35], counts: [3, 1, 2] }, 10), { values: [5, 15, 19, 25, 35], counts: [3, 2, 1, 2, 2] });
  let seed = 7;
  const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const data = new Map<number, number>();
  for (let i = 0; i < 5000; i++) {
    const v = rand() < 0.98 ? 1000 + Math.floor(rand() * 20_000) : 200_000 + Math.floor(rand() * 1_800_000);
    data.set(v, (data.get(v) ?? 0) + 1);
  }
  const values = [...data.keys()].sort((a, b) => a - b);
  const original: Buckets = { values, counts: values.map((v) => data.get(v)!) };
  const corrected = correct(original, 15_000);
  assert.ok(summarize(corrected).count > summarize(original).count);
  assert.deepEqual(uncorrect(corrected, 15_000), original);
  assert.throws(() => uncorrect({ values: [5, 15, 35], counts: [3, 0, 2] }, 10), /not wrk's correction/);
});

test('the kernel TCP counters parse as name/value line pairs', () => {
  const m = parseProcNet('Tcp: RtoAlgorithm RetransSegs\nTcp: 1 42\nTcpExt: ListenOverflows TCPSynRetrans\nTcpExt: 3 4\n');
  assert.equal(m.get('Tcp.RetransSegs'), 42);
  assert.equal(m.get('TcpExt.ListenOverflows'), 3);
  assert.equal(m.get('TcpExt.TCPSynRetrans'), 4);
});

test('a tiny tail run against the bare no-op: our generator, and wrk where it is installed', { timeout: 120_000 }, async (t) => {
  const wrk = findWrk();
  if (!wrk) t.diagnostic('wrk is not installed: the wrk part is skipped');
  const io = { log: () => {}, progress: false };
  try {
    const result = (await tail.run(
      {
        connections: 20,
        durationSec: 1,
        warmupSec: 0.5,
        flags: { rounds: '1', servers: 'noop', modes: wrk ? 'ours,wrk' : 'ours', 'wrk-long': '0', long: '0', 'wrk-threads': '1' },
      },
      io,
    )) as Awaited<ReturnType<typeof tail.run>> & { tail: { rows: TailRow[] } };
    const rows = result.tail.rows;
    assert.equal(rows.length, wrk ? 2 : 1);
    for (const c of result.checks ?? []) assert.ok(c.pass, `${c.name}: ${c.detail}`);
    for (const row of rows) {
      const m = row.measured!;
      assert.ok(row.rps > 50, `${row.mode}: ${row.rps} rps`);
      assert.ok(m.p50 > 0 && m.p50 <= m.p99 && m.p99 <= m.max, `${row.mode}: p50 ${m.p50} p99 ${m.p99} max ${m.max}`);
      // Little's law for what a closed loop measured: at most one request in flight per connection.
      assert.ok(m.little > 0 && m.little <= 1.05, `${row.mode}: L = ${m.little}`);
    }
    const w = rows.find((r) => r.mode === 'wrk');
    if (w) {
      assert.ok(w.printed && w.printed.p50 > 0, 'wrk printed a p50');
      assert.ok((w.synthetic ?? -1) >= 0);
    }
    assert.ok(result.ratios?.every((r) => r.target === 3 && r.better === 'lower'));
  } finally {
    await stopAllServers();
  }
});
