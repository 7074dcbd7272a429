// Bad input on every route: each answer names the field, and nothing is created (no benchmark, no document, no event).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBenchmarkApp, startBody, waitForEnd, type BenchApp } from './testing/support.ts';

describe('benchmark validation', () => {
  let app: BenchApp;
  before(async () => {
    app = await startBenchmarkApp();
  });
  after(() => app.close());

  /** Rows in every table a refused request could have written to. */
  async function written(): Promise<number> {
    const db = app.kernel.databases.get('benchmark')!.db;
    let n = 0;
    for (const table of ['benchmarks', 'documents', 'reports', 'notifications', 'outbox', 'inbox']) {
      n += Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    }
    return n;
  }

  it('POST /api/v1/benchmarks/start refuses each bad body with 422 UNPROCESSABLE_ENTITY naming the field', async () => {
    const good = startBody(`${app.url}/target`);
    const { password: _p, ...noPassword } = good;
    const cases: Array<[string, unknown]> = [
      ['benchmark_type', { ...good, benchmark_type: 'throughput' }],
      ['password', noPassword],
      ['name', { ...good, name: '' }],
      ['target_url', { ...good, target_url: 'ftp://host/x' }],
      ['target_url', { ...good, target_url: 'http://user:pw@host:1/' }],
      ['target_eigen_platform_version', { ...good, target_eigen_platform_version: 5 }],
      ['documents.count', { ...good, documents: { count: 0 } }],
      ['documents.count', { ...good, documents: { count: 1001 } }],
      ['documents.size_bytes', { ...good, documents: { count: 1, size_bytes: 10 ** 9 } }],
      ['documents.size_bytes', { ...good, documents: { count: 1000, size_bytes: 8 * 1024 * 1024 } }],
      ['notify.0', { ...good, notify: ['not-an-email'] }],
      ['timeout_seconds', { ...good, timeout_seconds: -1 }],
      ['thresholds.p95_seconds', { ...good, thresholds: { p95_seconds: 'fast' } }],
      ['baseline_id', { ...good, baseline_id: 'nope' }],
      ['baseline_id', { ...good, baseline_id: '00000000-0000-4000-8000-000000000000' }],
      ['extra', { ...good, extra: 1 }],
    ];
    for (const [field, body] of cases) {
      const res = await app.api('POST', '/api/v1/benchmarks/start', body);
      assert.equal(res.status, 422, `${field}: ${res.text}`);
      assert.equal(res.body.error, 'UNPROCESSABLE_ENTITY');
      assert.ok(
        res.body.details.some((d: any) => d.field === field || (field === 'extra' && d.field === 'body')),
        `${field} named in ${res.text}`,
      );
      assert.doesNotMatch(res.text, /S3cret/, 'the password is never echoed');
    }
    for (const [raw, status] of [
      ['', 400],
      ['{', 400],
      ['[]', 422],
      ['null', 422],
    ] as const) {
      const res = await app.api('POST', '/api/v1/benchmarks/start', raw);
      assert.equal(res.status, status, raw);
    }
    assert.equal(await written(), 0);
  });

  it('POST /api/v1/benchmarks/documents/ refuses bad callbacks with 422; an unmatched one is 202 and changes nothing', async () => {
    const good = {
      document_name: 'doc1.txt',
      eigen_document_id: '10',
      eigen_project_id: '7',
      benchmark_host_name: 'eigenapi:8283',
      start_time: 1700000000.5,
      end_time: null,
    };
    const cases: Array<[string, unknown]> = [
      ['document_name', { ...good, document_name: '' }],
      ['start_time', { ...good, start_time: 'yesterday' }],
      ['start_time', { ...good, start_time: null, end_time: null }],
      ['end_time', { ...good, end_time: -5 }],
      ['benchmark_host_name', { ...good, benchmark_host_name: undefined }],
    ];
    for (const [field, body] of cases) {
      const res = await app.api('POST', '/api/v1/benchmarks/documents/', body);
      assert.equal(res.status, 422, `${field}: ${res.text}`);
      assert.ok(
        res.body.details.some((d: any) => d.field === field),
        `${field} named in ${res.text}`,
      );
    }
    const unmatched = await app.api('POST', '/api/v1/benchmarks/documents/', good);
    assert.deepEqual([unmatched.status, unmatched.body], [202, { status: 'unmatched' }]);
    assert.equal(await written(), 0);
  });

  it('BENCHMARK_MAX_DOCUMENTS sets the most documents: one more is 422 naming documents.count and the setting, that many runs', async () => {
    const small = await startBenchmarkApp({ BENCHMARK_MAX_DOCUMENTS: '4' });
    try {
      const good = startBody(`${small.url}/target`);
      const over = await small.api('POST', '/api/v1/benchmarks/start', { ...good, documents: { count: 5 } });
      assert.equal(over.status, 422, over.text);
      const detail = over.body.details.find((d: any) => d.field === 'documents.count');
      assert.match(detail?.message ?? '', /at most 4 documents \(BENCHMARK_MAX_DOCUMENTS\)/, over.text);
      const ok = await small.api('POST', '/api/v1/benchmarks/start', { ...good, documents: { count: 4, size_bytes: 16 } });
      assert.equal(ok.status, 202, ok.text);
      const done = await waitForEnd(small.api, ok.body.benchmark_id);
      assert.deepEqual([done.status, done.progress], ['completed', { done: 4, total: 4 }]);
    } finally {
      await small.close();
    }
  });

  it('reads: bad list query is 400, an unknown id 404 on the view and every report', async () => {
    for (const q of ['status=done', 'limit=0', 'limit=1000', 'cursor=%%%', 'cursor=abc']) {
      const res = await app.api('GET', `/api/v1/benchmarks?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.error, 'VALIDATION_ERROR');
    }
    for (const path of ['', '/report.csv', '/report.json', '/report.html']) {
      const res = await app.api('GET', `/api/v1/benchmarks/00000000-0000-4000-8000-000000000000${path}`);
      assert.deepEqual([res.status, res.body.error], [404, 'BENCHMARK_NOT_FOUND'], path);
    }
    assert.deepEqual((await app.api('GET', '/api/v1/benchmarks')).body, { items: [], next_cursor: null });
    assert.equal(await written(), 0);
  });

  it('the built-in target refuses requests without a session and bad uploads', async () => {
    const t = (path: string) => `/target${path}`;
    assert.equal((await app.api('POST', t('/api/project_management/v2/projects/'), { name: 'x', description: 'y' })).status, 401);
    assert.equal((await app.api('POST', t('/api/v1/document_uploader/'), {})).status, 401);
    assert.equal((await app.api('POST', t('/auth/v1/token/'), { username: 'u' })).status, 400);
    assert.deepEqual((await app.api('GET', t('/health'))).body, { status: 'ok' });
  });
});
