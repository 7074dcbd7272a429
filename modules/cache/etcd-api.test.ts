// The HTTP API on the etcd backend in-process: readiness waits for the first list; an outage serves stale reads, refuses writes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gate, startTestApp, waitFor, type TestApp } from '../../kernel/testing/index.ts';
import { startEtcd, type EtcdServer } from '../../kernel/testing/etcd.ts';

const withEtcd = await gate('etcd');

describe('cache API on etcd: readiness and outage', withEtcd, () => {
  let etcd: EtcdServer;
  const apps: TestApp[] = [];
  const start = async (prefix: string) => {
    const app = await startTestApp({
      env: {
        MODULES: 'cache',
        ETCD_URL: etcd.url,
        CACHE_KEY_PREFIX: prefix,
        CACHE_ETCD_TIMEOUT_MS: '1000',
        CACHE_RESYNC_BASE_MS: '20',
        CACHE_RESYNC_MAX_MS: '300',
      },
    });
    apps.push(app);
    return app;
  };

  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    for (const a of apps) await a.close();
    await etcd?.close();
  });

  test('/readyz is 503 until the first list completes; reads before that go to etcd', async () => {
    await etcd.stop();
    const app = await start(`ready-${process.pid}/`);
    const readyz = async () => (await fetch(`${app.url}/readyz`)).status;
    assert.equal(await readyz(), 503);
    const early = await fetch(`${app.url}/config/k`);
    assert.equal(early.status, 503);
    assert.equal((await early.json()).error, 'CACHE_BACKEND_UNAVAILABLE');
    await etcd.restart();
    await waitFor('ready', async () => (await readyz()) === 200, 15_000);
  });

  test('etcd down: cached reads serve the last value with X-Cache-Stale; writes are 503 and leave no trace', async () => {
    const app = await start(`outage-${process.pid}/`);
    await waitFor('ready', async () => (await fetch(`${app.url}/readyz`)).ok, 15_000);
    const key = `${app.url}/config/svc/timeout`;
    assert.equal((await fetch(key, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"ms":250}' })).status, 200);
    const fresh = await fetch(key);
    assert.equal(fresh.headers.get('x-cache-stale'), null);

    await etcd.kill();
    const stale = await waitFor('stale read', async () => {
      const res = await fetch(key);
      return res.headers.get('x-cache-stale') === 'true' ? res : undefined;
    });
    assert.equal(stale.status, 200);
    assert.deepEqual(await stale.json(), { ms: 250 });
    const missing = await fetch(`${app.url}/config/never`);
    assert.deepEqual([missing.status, missing.headers.get('x-cache-stale')], [404, 'true']);

    for (const [method, url, body] of [
      ['PUT', key, '{"ms":999}'],
      ['POST', `${app.url}/config/svc/new`, '"during outage"'],
      ['DELETE', key, undefined],
      ['GET', `${key}?use_cache=false`, undefined],
    ] as const) {
      const t0 = Date.now();
      const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 503, `${method} ${url}`);
      assert.deepEqual(Object.keys(await res.json()), ['error', 'message']);
      assert.ok(Date.now() - t0 < 5000, `${method} answered within the deadline`);
    }
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /^cache_watch_connected 0$/m);
    assert.match(metrics, /^cache_stale_reads_total [1-9]/m);

    await etcd.restart();
    await waitFor('live again', async () => (await fetch(key)).headers.get('x-cache-stale') === null, 15_000);
    assert.deepEqual(await (await fetch(`${key}?use_cache=false`)).json(), { ms: 250 }, 'the refused write left no trace');
    assert.deepEqual(await (await fetch(key)).json(), { ms: 250 });
    assert.equal((await fetch(`${app.url}/config/svc/new?use_cache=false`)).status, 404);
    const after = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(after, /^cache_watch_connected 1$/m);
    assert.match(after, /^cache_resyncs_total [1-9]/m);
    assert.match(after, /^cache_entries 1$/m);
  });
});
