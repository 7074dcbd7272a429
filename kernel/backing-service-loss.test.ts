// Every backing service of one process killed at once (Postgres backends, two Redis servers, etcd): it answers 503s, stays up, recovers.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { redisServerInstalled, startRedisServer } from './testing/bus-redis.ts';
import { startEtcd } from './testing/etcd.ts';
import { createTestDatabase, gate, spawnApp, waitFor } from './testing/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const needs = (await redisServerInstalled()) ? await gate('postgres', 'etcd') : { skip: 'redis-server is not installed' };

describe('backing services lost under a running process', needs, () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  it('pg, ioredis (products store and event bus) and etcd3 clients all lose their servers: no crash, only 503s, then full service', async (t) => {
    const database = await createTestDatabase('service_loss');
    cleanup.push(database.drop);
    const store = await startRedisServer({ appendonly: false });
    const bus = await startRedisServer({ appendonly: true });
    const etcd = await startEtcd();
    cleanup.push(
      () => store.close(),
      () => bus.close(),
      () => etcd.close(),
    );
    const app = await spawnApp({
      MODULES: 'shop,cache',
      DATABASE_URL: database.url,
      SHOP_PRODUCTS_STORE: 'redis',
      REDIS_URL: store.url,
      EVENT_BUS_URL: bus.url,
      ETCD_URL: etcd.url,
      CACHE_ETCD_TIMEOUT_MS: '500',
    });
    cleanup.push(() => app.kill());
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(app.url + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      return res.status;
    };
    const order = { order_details: [{ product_id: 'zeppelin', price: '1.00', quantity: 1 }] };
    const requests = () =>
      Promise.all([call('GET', '/products/zeppelin'), call('POST', '/orders', order), call('PUT', '/config/mode', 'blue'), call('GET', '/config/mode')]);
    assert.equal(await call('POST', '/products', { id: 'zeppelin', title: 'Zeppelin', passenger_capacity: 1, maximum_speed: 5, in_stock: 100 }), 200);
    assert.equal(await call('PUT', '/config/mode', 'blue'), 200);
    // The cached read serves the instance's copy, which the watch brings up to date a moment later.
    await waitFor('every request served', async () => (await requests()).every((s) => s === 200));

    // Each client now reports errors outside any request (reconnects, watch and keepalive failures).
    await Promise.all([store.kill(), bus.kill(), etcd.kill(), terminateBackends(database.url)]);
    const statuses = new Set<number>();
    for (const until = Date.now() + 4000; Date.now() < until; await sleep(200)) for (const s of await requests()) statuses.add(s);
    t.diagnostic(`statuses while down: ${[...statuses].sort().join(', ')}`);
    assert.equal(app.proc.exitCode, null, `the process is alive:\n${app.output().slice(-3000)}`);
    assert.ok(statuses.has(503), 'the premise: requests met the lost services');
    assert.deepEqual(
      [...statuses].filter((s) => s !== 200 && s !== 503),
      [],
      'only 200 (the stale cache read) and 503',
    );
    assert.equal((await fetch(`${app.url}/readyz`)).status, 503, 'not ready while its services are gone');
    // ioredis prints this instead of throwing when an 'error' has no listener; pg and etcd3 would have ended the process.
    assert.doesNotMatch(app.output(), /Unhandled error event|uncaught/i);

    await Promise.all([store.restart(), bus.restart(), etcd.restart()]);
    await waitFor('/readyz 200 again', async () => (await fetch(`${app.url}/readyz`)).status === 200, 20_000, 100);
    // The products store lost its data with its server (no persistence): the product comes back as it was created.
    assert.equal(await call('POST', '/products', { id: 'zeppelin', title: 'Zeppelin', passenger_capacity: 1, maximum_speed: 5, in_stock: 100 }), 200);
    await waitFor('every request served', async () => (await requests()).every((s) => s === 200), 20_000, 200);
    assert.equal(await app.stop(), 0, app.output().slice(-3000));
  });
});

async function terminateBackends(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  await admin.end();
}
