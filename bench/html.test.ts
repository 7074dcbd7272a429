// The HTML report and its charts: well-formed, self-contained (nothing fetched), and showing the result's numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultCharts } from './charts.ts';
import { renderHtml } from './html.ts';
import { ratio, type RunRecord, type StoredResult } from './scenario.ts';

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

/** Every opened tag closed in order (self-closing `<x/>` and HTML's void elements excepted). */
function assertBalanced(markup: string): void {
  const open: string[] = [];
  for (const [, slash, name, selfClosing] of markup.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    if (slash) assert.equal(open.pop(), name, `</${name}> closes <${open.at(-1)}>`);
    else if (!selfClosing && !VOID.has(name)) open.push(name);
  }
  assert.deepEqual(open, [], 'unclosed tags');
  assert.doesNotMatch(markup.replace(/<[^>]*>/g, ''), /[<>]/, 'a stray < or > in text (unescaped)');
}

const assertSelfContained = (markup: string) =>
  assert.doesNotMatch(markup.replaceAll('xmlns="http://www.w3.org/2000/svg"', ''), /https?:|href|src=|url\(|@import|<script/i);

const run = (label: string, okRps: number, p99: number): RunRecord => ({
  label,
  okRps,
  rps: okRps,
  ok: okRps * 2,
  requests: okRps * 2,
  connections: 10,
  elapsedMs: 2000,
  servers: [],
  name: label,
  url: '',
  iterations: 0,
  statuses: {},
  steps: {},
  serverCpuPercent: 90,
  serverCpuUsPerOk: 120,
  loadgenCpuPercent: 40,
  loadgenCpuUsPerRequest: 33,
  loadAverage: 1.5,
  otherCpuPercent: 12,
  cutOff: false,
  warmup: { requests: 0, ok: 0, errors: 0 },
  latency: { count: 1, min: 0.1, max: p99 * 2, avg: 1, p50: 0.9, p90: 1.5, p95: 2, p99 },
  errors: { total: 0, status: 0, status5xx: 0, network: 0, assertion: 0, samples: {} },
  timeline: [1, 2].map((t) => ({ t, requests: okRps, ok: okRps, errors: 0, rps: okRps, p50: 0.9, p90: 1.5, p99, max: p99 * 2 })),
});

const ours = [run('cantons <events> #1', 8123, 4.25), run('cantons <events> #2', 7000, 5.5)];
const bare = [run('bare koa #1', 10_000, 3), run('bare koa #2', 9000, 3.5)];
const result: StoredResult = {
  scenario: 'events',
  startedAt: '2026-12-01T12:00:00.000Z',
  machine: { node: 'v20', platform: 'linux', cpus: 2 },
  options: { connections: 10, durationSec: 2, warmupSec: 1, flags: { rounds: '2' } },
  runs: [...ours, ...bare],
  ratios: [ratio('cantons ÷ bare & co', ours, bare, 0.8)],
  checks: [{ name: 'zero 5xx', pass: true, detail: '0 of 16246' }],
  notes: ['a note with <angle brackets> & an ampersand'],
};

test("the report is one well-formed, self-contained page with every chart inline and the result's numbers", () => {
  const html = renderHtml(result);
  assertBalanced(html);
  assertSelfContained(html);
  assert.equal(html.match(/<svg /g)?.length, resultCharts(result).length);
  for (const n of ['8123', '7000', '10000', '9000', '4.25', '0.78', '0.81', '16246']) assert.ok(html.includes(n), `${n} missing`);
  assert.match(html, /cantons ÷ bare &amp; co = 0\.8 \(target ≥ 0\.8: NOT MET\)/); // the median 0.795 shows as 0.8 but is judged exactly
  assert.match(html, /&lt;angle brackets&gt; &amp; an ampersand/);
});

test('a run without per-second percentiles (stored before they were kept, or another driver) gets no lines over time', () => {
  const old = { ...run('older', 100, 2), timeline: [{ t: 1, requests: 100, errors: 0 }] } as unknown as RunRecord;
  const charts = resultCharts({ ...result, runs: [old], ratios: [] });
  assert.deepEqual(
    charts.map((c) => c.id),
    [],
  );
  assert.doesNotMatch(renderHtml({ ...result, runs: [old] }), /NaN/);
});

test('charts: ratios with target and rounds, ok/s by round, and per setup ok/s and latency over time', () => {
  const charts = resultCharts(result);
  assert.deepEqual(
    charts.map((c) => c.id),
    ['ratios', 'rounds', 'throughput-cantons-events', 'latency-cantons-events', 'throughput-bare-koa', 'latency-bare-koa'],
  );
  for (const c of charts) {
    assertBalanced(c.svg);
    assertSelfContained(c.svg);
    assert.match(c.svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
  }
  const [ratios, rounds, throughput, latency] = charts.map((c) => c.svg);
  assert.match(ratios, />0\.8</);
  assert.equal(ratios.match(/<circle /g)?.length, 2); // the two rounds
  assert.equal(ratios.match(/stroke-dasharray/g)?.length, 1); // the target
  assert.match(rounds, />cantons &lt;events&gt;</);
  assert.equal(throughput.match(/<polyline /g)?.length, 2); // a line per round
  assert.equal(latency.match(/<polyline /g)?.length, 6); // p50, p90, p99 per round …
  assert.deepEqual(
    [...latency.matchAll(/<text [^>]*>(p\d\d)<\/text>/g)].map((m) => m[1]),
    ['p50', 'p90', 'p99'],
  ); // … one legend entry each
});

test('a bench scale result: one chart per module under "Scale", and a cost ratio printed as "target ≤"', () => {
  const measure = (module: string, name: string, values: number[], better?: 'higher') => ({
    module,
    name,
    unit: 'µs',
    sizeUnit: 'keys',
    kind: 'request' as const,
    ...(better ? { better } : {}),
    points: values.map((value, i) => ({ size: 10 ** (i + 3), value })),
  });
  const scale = [measure('cache', 'first list per key', [5, 5.5]), measure('cache', 'GET p50', [1, 1.1]), measure('shop', 'list/s', [100, 90], 'higher')];
  const scaled = {
    ...result,
    scenario: 'scale',
    ratios: [{ name: 'scale cache first list per key largest ÷ smallest', value: 1.1, target: 1.2, better: 'lower' as const, met: true, detail: 'd' }],
    scale,
  } as StoredResult;
  const charts = resultCharts(scaled).filter((c) => c.group === 'scale');
  assert.deepEqual(
    charts.map((c) => c.id),
    ['scale-cache', 'scale-shop'],
  );
  const html = renderHtml(scaled);
  assertBalanced(html);
  assertSelfContained(html);
  assert.match(html, /<h2>Scale: each measure by stored size<\/h2>/);
  for (const c of charts) assert.ok(html.includes(c.svg), c.id);
  assert.match(html, /first list per key largest ÷ smallest = 1\.1 \(target ≤ 1\.2: MET\)/);
  assert.doesNotMatch(renderHtml(result), /Scale:/, 'no section without `scale`');
});
