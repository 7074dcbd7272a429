// slowking's own clients against us, byte for byte what they send: its HTTP tests (tests/integration/slowking/
// entrypoints/test_http.py, FastAPI's TestClient, `json=`) and its mock target's callback (eigenapi/main.py).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BenchApp, startBenchmarkApp } from './testing/support.ts';

describe("slowking's clients", () => {
  let app: BenchApp;
  before(async () => {
    app = await startBenchmarkApp();
  });
  after(() => app.close());

  it('test_channels_endpoint: the original six channels, in its order, before ours', async () => {
    const res = await app.api('GET', '/api/v1/benchmarks/channels');
    assert.equal(res.status, 200);
    const original = ['all_documents_uploaded', 'benchmark_created', 'document_updated', 'project_created', 'create_benchmark', 'update_document'];
    // Ours has two more events (error_occurred, report_completed) and two more keys: docs/api-compatibility.md says why.
    assert.deepEqual(
      res.body.channels.filter((c: string) => original.includes(c)),
      original,
    );
  });

  it('test_start_benchmark_endpoint_accepted: 202', async () => {
    const payload = {
      name: 'test-benchmark',
      benchmark_type: 'latency',
      target_infra: 'k8s',
      target_url: 'localhost',
      target_eigen_platform_version: '5.11.0-rc.1',
      username: 'test user',
      password: 'test pw',
    };
    const res = await app.api('POST', '/api/v1/benchmarks/start', payload);
    assert.equal(res.status, 202, res.text);
  });

  it('test_start_benchmark_endpoint_unprocessable_entity: 422 naming the missing fields, in our error shape', async () => {
    const payload = {
      name: 'test-benchmark',
      benchmark_type: 'latency',
      target_infra: 'k8s',
      target_url: 'localhost',
      target_eigen_platform_version: '5.11.0-rc.1',
    };
    const res = await app.api('POST', '/api/v1/benchmarks/start', payload);
    assert.equal(res.status, 422, res.text);
    assert.equal(res.body.error, 'UNPROCESSABLE_ENTITY');
    assert.match(res.body.message, /username/);
    assert.deepEqual(res.body.details.map((d: { field: string }) => d.field).sort(), ['password', 'username']);
  });

  for (const path of ['/api/v1/benchmarks/documents', '/api/v1/benchmarks/documents/']) {
    it(`test_update_document_endpoint_accepted_with_start_time and _end_time: 202 at ${path}`, async () => {
      for (const times of [
        { start_time: 123.456, end_time: null },
        { start_time: null, end_time: 123.456 },
      ]) {
        const payload = { document_name: 'test doc', eigen_document_id: '11', eigen_project_id: '22', benchmark_host_name: 'test host', ...times };
        const res = await app.api('POST', path, payload);
        assert.deepEqual([res.status, res.body], [202, { status: 'unmatched' }], res.text);
      }
    });

    it(`test_update_document_endpoint_unprocessable_entity: 422 naming eigen_document_id at ${path}`, async () => {
      const payload = { document_name: 'test doc', eigen_project_id: '22', benchmark_host_name: 'test host' };
      const res = await app.api('POST', path, payload);
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.error, 'UNPROCESSABLE_ENTITY');
      assert.ok(res.body.details.some((d: { field: string }) => d.field === 'eigen_document_id'));
    });
  }

  it("the mock target's callback: requests.post(url, json=payload.dict()), an integer id as a string, 202", async () => {
    const body = JSON.stringify({
      document_name: 'doc1.txt',
      eigen_document_id: '7',
      eigen_project_id: '3',
      benchmark_host_name: 'eigenapi:8283',
      start_time: 1700000000.25,
      end_time: null,
    });
    const res = await fetch(`${app.url}/api/v1/benchmarks/documents/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 202);
  });
});
