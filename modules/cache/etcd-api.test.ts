// The HTTP API on the etcd backend in-process: readiness waits for the first list; an outage serves stale reads, refuses writes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gate, startTestApp, waitFor, type TestApp } from '../../kernel/testing/index.ts';
import { startEtcd, type EtcdServer } from '../../kernel/testing/etcd.ts';
import { startProxy } from './testing/proxy.ts';

const withEtcd = await gate('etcd');

describe('cache API on etcd: readiness and outage', withEtcd, () => {
  let etcd: EtcdServer;
  const apps: TestApp[] = [];
  const start = async (prefix: string, env: Record<string, string> = {}) => {
    const app = await startTestApp({
      env: {
        MODULES: 'cache',
        ETCD_URL: etcd.url,
        CACHE_KEY_PREFIX: prefix,
        CACHE_ETCD_TIMEOUT_MS: '1000',
        CACHE_RESYNC_BASE_MS: '20',
        CACHE_RESYNC_MAX_MS: '300',
        ...env,
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
    assert.match(metrics, /^cantons_cache_watch_connected 0$/m);
    assert.match(metrics, /^cantons_cache_stale_reads_total [1-9]/m);

    await etcd.restart();
    await waitFor('live again', async () => (await fetch(key)).headers.get('x-cache-stale') === null, 15_000);
    assert.deepEqual(await (await fetch(`${key}?use_cache=false`)).json(), { ms: 250 }, 'the refused write left no trace');
    assert.deepEqual(await (await fetch(key)).json(), { ms: 250 });
    assert.equal((await fetch(`${app.url}/config/svc/new?use_cache=false`)).status, 404);
    const after = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(after, /^cantons_cache_watch_connected 1$/m);
    assert.match(after, /^cantons_cache_resyncs_total [1-9]/m);
    assert.match(after, /^cantons_cache_entries 1$/m);
  });

  // The link to etcd stops forwarding without a FIN or an RST (a partition, a dead middlebox): etcd's answers never
  // arrive. Default check interval and deadline, as a deployment runs them.
  test("silent partition: stale at once when the instance's own PUT fails, and within a check without any request", async () => {
    const u = new URL(etcd.url);
    const proxy = await startProxy({ host: u.hostname, port: Number(u.port) });
    apps.push({ close: () => proxy.close() } as TestApp);
    const other = await start(`partition-${process.pid}/`, { CACHE_ETCD_TIMEOUT_MS: '2000' });
    const app = await start(`partition-${process.pid}/`, { ETCD_URL: proxy.url, CACHE_ETCD_TIMEOUT_MS: '2000' });
    await waitFor('ready', async () => (await fetch(`${app.url}/readyz`)).ok, 15_000);
    const key = `${app.url}/config/flag`;
    const put = (url: string, body: string) => fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
    assert.equal((await put(key, '"v1"')).status, 200);
    await waitFor('not stale', async () => (await fetch(key)).headers.get('x-cache-stale') === null);

    // 1. The instance's own write fails: from that answer on, its cached reads say stale.
    proxy.stall();
    const t0 = Date.now();
    const refused = await put(key, '"v2"');
    assert.equal(refused.status, 503);
    const right = await fetch(key);
    assert.equal(right.headers.get('x-cache-stale'), 'true', `stale right after its own PUT failed (${Date.now() - t0} ms into the partition)`);
    assert.deepEqual(await right.json(), 'v1');

    // 2. Link back, live again, then a partition with no request at all: the watch check (1 s, 2 s deadline) finds it.
    proxy.resume();
    await waitFor('live again', async () => (await fetch(key)).headers.get('x-cache-stale') === null, 15_000);
    assert.equal((await put(`${other.url}/config/flag`, '"v3"')).status, 200);
    await waitFor('v3 reached the instance', async () => (await (await fetch(key)).json()) === 'v3');
    proxy.stall();
    const t1 = Date.now();
    assert.equal((await put(`${other.url}/config/flag`, '"v4 (written elsewhere during the partition)"')).status, 200);
    await waitFor('stale without any request of its own', async () => (await fetch(key)).headers.get('x-cache-stale') === 'true', 4000);
    const noticedMs = Date.now() - t1;
    assert.ok(noticedMs <= 4000, `noticed after ${noticedMs} ms`);
    const old = await fetch(key);
    assert.deepEqual([old.headers.get('x-cache-stale'), await old.json()], ['true', 'v3'], 'the old value, marked stale');

    proxy.resume();
    await waitFor(
      'converged',
      async () => {
        const res = await fetch(key);
        return res.headers.get('x-cache-stale') === null && (await res.json()) === 'v4 (written elsewhere during the partition)';
      },
      15_000,
    );
  });
});
