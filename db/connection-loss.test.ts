// Postgres connections killed under the app (pg_terminate_backend, as a failover does): 503s, never a crash or a half write.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { isDependencyFailure } from '../kernel/errors.ts';
import { createTestDatabase, gate, spawnApp, waitFor, type SpawnedApp } from '../kernel/testing/index.ts';
import { openModuleDatabase } from './database.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const databaseOf = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));

/** Terminates every backend of `url`'s database but its own, every `everyMs`, until stopped; counts the kills. */
function terminator(url: string, everyMs: number) {
  let stop = false;
  let killed = 0;
  const done = (async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      while (!stop) {
        const res = await admin.query(
          'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [databaseOf(url)],
        );
        killed += Number(res.rows[0].n);
        await sleep(everyMs);
      }
    } finally {
      await admin.end();
    }
  })();
  return {
    async stop() {
      stop = true;
      await done;
      return killed;
    },
  };
}

describe('Postgres connections that come and go', await gate('postgres'), () => {
  const apps: SpawnedApp[] = [];
  const drops: Array<() => Promise<void>> = [];
  after(async () => {
    await Promise.all(apps.map((a) => a.kill()));
    for (const drop of drops) await drop();
  });

  it('a transaction whose backend is terminated while it holds the connection fails as a dependency failure; nothing half is written', async () => {
    const database = await createTestDatabase('conn_loss');
    drops.push(database.drop);
    const warnings: string[] = [];
    const mdb = await openModuleDatabase('conn_loss', { dataDir: ':memory:', databaseUrl: database.url, log: { warn: (_o, msg) => void warnings.push(msg) } });
    try {
      await mdb.db.schema.createTable('t').addColumn('id', 'integer').execute();
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      const failed = await mdb.db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('t').values({ id: 1 }).execute();
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
          // The client is checked out and idle in its transaction when its socket closes: the 'error' event
          // pg emits then had no listener (the pool listens to idle clients only), and the process exited.
          await sleep(200);
          await trx.insertInto('t').values({ id: 2 }).execute();
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      await admin.end();
      assert.ok(failed, 'the transaction failed');
      assert.ok(isDependencyFailure(failed), `a dependency failure (503), not a bug (500): ${String(failed)}`);
      assert.ok(warnings.includes('postgres client error'), `logged: ${warnings.join(', ')}`);
      // The pool dropped the dead client: the next statements get a new connection, and nothing of the transaction is there.
      assert.deepEqual(await mdb.db.selectFrom('t').selectAll().execute(), []);
      assert.equal(await mdb.ping(), true);
    } finally {
      await mdb.close();
    }
  });

  it('every backend terminated every 200 ms under load: the process stays up, answers 2xx or 503, keeps every acknowledged write', async (t) => {
    const database = await createTestDatabase('conn_loss_app');
    drops.push(database.drop);
    // Orders (a reservation, then the order with its lines and its event in one transaction, then the consumer's) and events.
    const app = await spawnApp({ MODULES: 'shop,events', DATABASE_URL: database.url, BUS_POLL_MS: '50' });
    apps.push(app);
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const STOCK = 100_000;
    const product = { id: 'blimp', title: 'Blimp', passenger_capacity: 10, maximum_speed: 5, in_stock: STOCK };
    assert.equal((await post('/products', product)).status, 200);

    const statuses = new Map<number, number>();
    const orders: number[] = [];
    const reports: string[] = [];
    let transportErrors = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const trace = `loss-${w}-${i}`;
        try {
          const res =
            i % 2 === 0
              ? await post('/orders', { order_details: [{ product_id: 'blimp', price: '1.00', quantity: 1 }] })
              : await post(
                  '/events/snow-reports',
                  { device_id: `d${w}`, resort_id: 'r', depth: i % 300, timestamp: '2024-02-01T12:00:00Z' },
                  { 'x-trace-id': trace },
                );
          const body = (await res.json()) as { id?: number };
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) orders.push(body.id!);
          if (res.status === 201) reports.push(trace);
        } catch {
          transportErrors++;
          await sleep(50);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    await sleep(500);
    const kills = terminator(database.url, 200);
    await sleep(6000);
    const killed = await kills.stop();
    stop = true;
    await load;

    const summary = `statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${killed} backends killed, ${transportErrors} transport errors\n${app.output().slice(-3000)}`;
    t.diagnostic(summary.split('\n')[0]);
    assert.equal(app.proc.exitCode, null, `the process is alive: ${summary}`);
    assert.ok(killed >= 20, `the premise: backends were killed while it served (${summary})`);
    assert.ok((statuses.get(503) ?? 0) > 0, `the premise: some requests met a dead connection (${summary})`);
    assert.deepEqual(
      [...statuses.keys()].filter((s) => !(s === 200 || s === 201 || s === 503)),
      [],
      `only 2xx and 503: ${summary}`,
    );
    assert.equal(transportErrors, 0, summary);
    await waitFor('/readyz 200 again', async () => (await fetch(`${app.url}/readyz`)).status === 200, 10_000, 50);

    // Every acknowledged write is there, whole: each order with its line, each report by its trace id.
    const missing: string[] = [];
    for (const id of orders) {
      const res = await fetch(`${app.url}/orders/${id}`);
      const body = (await res.json()) as { order_details?: unknown[] };
      if (res.status !== 200 || body.order_details?.length !== 1) missing.push(`order ${id}: ${res.status}`);
    }
    for (const trace of reports) {
      const res = await fetch(`${app.url}/events/snow-reports/by-trace/${trace}`);
      await res.arrayBuffer();
      if (res.status !== 200) missing.push(`report ${trace}: ${res.status}`);
    }
    assert.deepEqual(missing, [], `${missing.length} of ${orders.length + reports.length} acknowledged writes missing`);
    assert.ok(orders.length > 0 && reports.length > 0, summary);

    // No order without its event and no event without its order: the stock ends at STOCK − stored orders
    // (a 503 may still have committed, so stored ≥ acknowledged), once the events are applied.
    const total = ((await (await fetch(`${app.url}/orders?limit=1`)).json()) as { total: number }).total;
    assert.ok(total >= orders.length, `${total} stored, ${orders.length} acknowledged`);
    const stock = async () => ((await (await fetch(`${app.url}/products/blimp`)).json()) as { in_stock: number }).in_stock;
    await waitFor(`in_stock = ${STOCK - total}`, async () => (await stock()) === STOCK - total, 10_000, 50).catch(async (err) => {
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      const dead = await c.query('SELECT consumer, error FROM shop.dead_letters');
      const outbox = await c.query('SELECT count(*) AS n FROM shop.outbox');
      await c.end();
      throw new Error(
        `${err.message}: in_stock ${await stock()}, outbox ${outbox.rows[0].n}, ${dead.rowCount} dead letters ${dead.rows[0]?.error.slice(0, 300)}`,
      );
    });
    assert.equal(await app.stop(), 0, app.output().slice(-3000));
  });
});
