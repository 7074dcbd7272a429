// Reports from stored rows: the original's CSV bytes, exact percentiles, the threshold verdict, the self-contained HTML with a baseline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildReports, CSV_COLUMNS } from './report.ts';
import type { StoredBenchmark } from './store.ts';
import { percentile, summarise, verdict } from './summary.ts';

const benchmark = (over: Partial<StoredBenchmark> = {}): StoredBenchmark => ({
  id: 'b1',
  name: 'Release, "rc1"',
  benchmark_type: 'latency',
  target_infra: 'k8s',
  target_url: 'eigenapi:8283',
  target_base: 'http://eigenapi:8283',
  target_host: 'eigenapi:8283',
  eigen_version: '5.11.0',
  username: 'u',
  password_enc: null,
  project_id: '1',
  uploaded_at: null,
  status: 'running',
  closing: 'completed',
  error: null,
  options: { documents: null, notify: null, timeout_seconds: 60, thresholds: null, baseline_id: null },
  deadline_ms: 0,
  created_at: '2026-01-01T00:00:00.000Z',
  finished_at: null,
  ...over,
});
const docs = [
  { name: 'doc1.txt', start_time: 100, end_time: 101.5 },
  { name: 'doc2.txt', start_time: 100, end_time: 103 },
  { name: 'doc3.txt', start_time: 101, end_time: null },
];

describe('benchmark reports', () => {
  it('CSV: exactly the original header, one CRLF row per document, quoting where needed, empty time when missing', () => {
    const { csv } = buildReports(benchmark(), docs, 'failed');
    assert.equal(CSV_COLUMNS.join(','), 'Benchmark Name,Benchmark Type,Infra,Eigen Version,Doc Name,Upload Time (seconds)');
    assert.equal(
      csv,
      [
        'Benchmark Name,Benchmark Type,Infra,Eigen Version,Doc Name,Upload Time (seconds)',
        '"Release, ""rc1""",latency,k8s,5.11.0,doc1.txt,1.5',
        '"Release, ""rc1""",latency,k8s,5.11.0,doc2.txt,3',
        '"Release, ""rc1""",latency,k8s,5.11.0,doc3.txt,',
        '',
      ].join('\r\n'),
    );
  });

  it('upload times to the millisecond, as the original printed them, in the CSV, the JSON and the summary', () => {
    // Epoch seconds as a target sends them: their difference is 4.6570000648498535 in floating point.
    const doc = { name: 'a.txt', start_time: 1765000000.123, end_time: 1765000004.78 };
    const { csv, json } = buildReports(benchmark(), [doc], 'completed');
    assert.equal(csv.split('\r\n')[1].split(',').at(-1), '4.657');
    assert.equal(json.documents[0].upload_seconds, 4.657);
    assert.deepEqual([json.summary.min, json.summary.mean, json.summary.p99, json.summary.wall_seconds], [4.657, 4.657, 4.657, 4.657]);
  });

  it('nearest-rank percentiles, mean, wall time and throughput', () => {
    const times = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual(
      [0, 50, 90, 95, 99, 100].map((p) => percentile(times, p)),
      [1, 50, 90, 95, 99, 100],
    );
    assert.equal(percentile([], 50), null);
    const s = summarise(docs);
    assert.deepEqual(s, {
      count: 3,
      completed: 2,
      failed: 1,
      min: 1.5,
      mean: 2.25,
      p50: 1.5,
      p90: 3,
      p95: 3,
      p99: 3,
      max: 3,
      throughput_per_second: 0.666667,
      wall_seconds: 3,
    });
  });

  it('percentiles by one definition, nearest rank, against known lists (not interpolated)', () => {
    // The textbook examples of the nearest-rank method (e.g. Wikipedia, "Percentile").
    const a = [15, 20, 35, 40, 50];
    assert.deepEqual(
      [5, 30, 40, 50, 100].map((p) => percentile(a, p)),
      [15, 20, 20, 35, 50],
    );
    const b = [3, 6, 7, 8, 8, 10, 13, 15, 16, 20];
    assert.deepEqual(
      [25, 50, 75, 100].map((p) => percentile(b, p)),
      [7, 8, 15, 20],
    );
    // A whole rank stays whole: (7/100)·100 is 7.000000000000001 in floating point, rank 8 by mistake.
    assert.equal(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        7,
      ),
      7,
    );
    // Through the summary, from unsorted documents: p50 8 (interpolated: 9), p90 16 (16.4), p95 and p99 20.
    const shuffled = [13, 3, 20, 8, 16, 6, 10, 8, 15, 7];
    const s = summarise(shuffled.map((t, i) => ({ name: `d${i}`, start_time: 100, end_time: 100 + t })));
    assert.deepEqual([s.min, s.p50, s.p90, s.p95, s.p99, s.max], [3, 8, 16, 20, 20, 20]);
    assert.equal(summarise([{ name: 'one', start_time: 1, end_time: 3.5 }]).p99, 2.5);
  });

  it('thresholds: any limit exceeded fails; failed documents count against max_failed (0 without thresholds)', () => {
    const s = summarise(docs);
    assert.equal(verdict(s, undefined), 'failed');
    assert.equal(verdict(s, { max_failed: 1 }), 'passed');
    assert.equal(verdict(s, { max_failed: 1, p95_seconds: 2 }), 'failed');
    assert.equal(verdict(s, { max_failed: 1, max_seconds: 3 }), 'passed');
    assert.equal(verdict(summarise(docs.slice(0, 2)), undefined), 'passed');
  });

  it('HTML: self-contained, escaped, three charts with a baseline', () => {
    const base = buildReports(benchmark({ id: 'b0', name: 'baseline <run>' }), docs.slice(0, 2), 'completed');
    const { html, json } = buildReports(benchmark(), docs, 'failed', base.json);
    assert.equal(json.thresholds, 'failed');
    assert.equal((html.match(/<svg /g) ?? []).length, 3);
    assert.match(html, /baseline &lt;run&gt;/);
    assert.match(html, /Release, &quot;rc1&quot;/);
    assert.doesNotMatch(html, /<script|<link|<img|src=|url\(/i);
    assert.equal((buildReports(benchmark(), docs, 'failed').html.match(/<svg /g) ?? []).length, 2);
  });
});

describe('benchmark uploads', () => {
  it('upload requests are bounded by file count and bytes; a large document goes alone', async () => {
    const { uploadBatches } = await import('./documents.ts');
    const docs = (sizes: number[]) => sizes.map((size_bytes, i) => ({ i, size_bytes }));
    assert.deepEqual(
      uploadBatches(docs([1, 1, 1, 1, 1]), 2, 100).map((b) => b.map((d) => d.i)),
      [[0, 1], [2, 3], [4]],
    );
    assert.deepEqual(
      uploadBatches(docs([60, 60, 200, 10]), 10, 100).map((b) => b.map((d) => d.i)),
      [[0], [1], [2], [3]],
    );
    assert.deepEqual(uploadBatches([], 10, 100), []);
  });
});
