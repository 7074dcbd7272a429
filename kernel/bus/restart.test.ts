// kill -9 while the relay holds the outbox rows of acknowledged writes, then restart: their events arrive within 2 s.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, gate, spawnApp, waitFor, type SpawnedApp } from '../testing/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a restarted process resumes its crashed predecessor’s outbox', await gate('postgres'), () => {
  const apps: SpawnedApp[] = [];
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    await Promise.all(apps.map((a) => a.kill()));
    for (const fn of cleanup.reverse()) await fn();
  });

  it('events of orders acknowledged just before a kill -9 are applied within 2 s of the restart', async (t) => {
    const database = await createTestDatabase('relay_restart');
    cleanup.push(database.drop);
    // Every event through the outbox (BUS_INLINE=false): this is a test of the relay, not of the inline delivery.
    const env = { MODULES: 'shop', DATABASE_URL: database.url, BUS_INLINE: 'false' };
    const first = await spawnApp(env);
    apps.push(first);
    const call = async (app: SpawnedApp, method: string, path: string, body?: unknown) => {
      const res = await fetch(app.url + path, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const STOCK = 100;
    const ORDERS = 5;
    assert.equal((await call(first, 'POST', '/products', { id: 'kite', title: 'Kite', passenger_capacity: 1, maximum_speed: 5, in_stock: STOCK })).status, 200);

    // The consumer's inbox locked: the relay claims the rows and then waits inside its delivery, holding their
    // lease, as a relay does at any moment of a busy outbox. Nothing of the app is stubbed.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    cleanup.push(() => admin.end());
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE shop.inbox IN ACCESS EXCLUSIVE MODE');
    for (let i = 0; i < ORDERS; i++) {
      assert.equal((await call(first, 'POST', '/orders', { order_details: [{ product_id: 'kite', price: '1.00', quantity: 1 }] })).status, 200);
    }
    const leases = async () =>
      (await admin.query<{ owner: string | null; until: string | null }>('SELECT lease_owner AS owner, lease_until AS until FROM shop.outbox')).rows;
    const leased = (rows: Awaited<ReturnType<typeof leases>>) => rows.filter((r) => r.owner && Number(r.until) > Date.now());
    // One batch in flight: the rows committed after it wait for the relay's next round.
    const claimed = await waitFor('the relay holds rows', async () => {
      const rows = await leases();
      return rows.length === ORDERS && leased(rows).length > 0 && leased(rows);
    });
    // Premise: the live relay renews the lease while it delivers (it would otherwise lapse within 1.5 s).
    await sleep(2000);
    const renewed = leased(await leases());
    assert.equal(renewed.length, claimed.length, 'the lease was renewed');
    assert.ok(Number(renewed[0].until) > Number(claimed[0].until), 'the lease was renewed');

    first.proc.kill('SIGKILL');
    await first.kill();
    await admin.query('ROLLBACK');
    // Premise: the dead relay still holds those rows.
    assert.equal(leased(await leases()).length, claimed.length, 'rows are still leased to the dead relay');

    const restarted = performance.now();
    const second = await spawnApp(env);
    apps.push(second);
    const ready = performance.now();
    await waitFor('the events applied', async () => (await call(second, 'GET', '/products/kite')).body.in_stock === STOCK - ORDERS, 10_000, 20);
    const applied = performance.now();
    assert.equal((await admin.query('SELECT count(*)::int AS n FROM shop.outbox')).rows[0].n, 0, 'the outbox is empty');
    const afterReady = Math.round(applied - ready);
    t.diagnostic(`applied ${afterReady} ms after ready, ${Math.round(applied - restarted)} ms after the restart began`);
    assert.ok(
      afterReady <= 2000,
      `applied ${afterReady} ms after the restarted process was ready (${Math.round(applied - restarted)} ms after it was started)`,
    );
    assert.equal(await second.stop(), 0);
  });
});
