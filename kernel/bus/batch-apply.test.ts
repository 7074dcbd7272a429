// A burst of events is applied in a few consumer transactions, not one each — in order, a failing handler isolated.
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { sql, type Transaction } from 'kysely';
import { Registry } from 'prom-client';
import { postgresDatabases, randomId, silentLog, sqliteDatabases, topicNamed, type Databases } from '../testing/bus.ts';
import { deleteRedisKeys, gate, REDIS_URL, waitFor } from '../testing/index.ts';
import { writeTransaction } from '../../db/write-transaction.ts';
import { Consumer } from './consumer.ts';
import { createBus } from './index.ts';
import { createBusMetrics } from './metrics.ts';
import type { ModuleDatabase } from '../../db/database.ts';
import type { Bus, BusEvent } from './types.ts';

const N = 100;

interface Setup {
  name: string;
  gate: { skip?: string };
  databases: () => Promise<Databases>;
  url?: string;
}

const setups: Setup[] = [
  { name: 'in-process on SQLite', gate: {}, databases: async () => sqliteDatabases() },
  { name: 'in-process on Postgres', gate: await gate('postgres'), databases: postgresDatabases },
  { name: 'Redis Streams on Postgres', gate: await gate('postgres', 'redis'), databases: postgresDatabases, url: REDIS_URL },
  { name: 'Redis Streams on SQLite', gate: await gate('redis'), databases: async () => sqliteDatabases(), url: REDIS_URL },
];

for (const setup of setups) {
  describe(`batched apply, ${setup.name}`, setup.gate, () => {
    const prefix = `cantons-test-${randomId()}`;
    let dbs: Databases | undefined;
    const buses: Bus[] = [];
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((b) => b.stop()));
      await dbs?.dispose();
      dbs = undefined;
    });
    after(() => (setup.url ? deleteRedisKeys(prefix) : undefined));

    async function burst(handler: (event: BusEvent, trx: Transaction<any>) => Promise<void>) {
      dbs = await setup.databases();
      const pub = await dbs.open(`pub${randomId()}`);
      const sub = await dbs.open(`sub${randomId()}`);
      const bus = createBus({
        url: setup.url,
        log: silentLog,
        metrics: new Registry(),
        maxAttempts: 3,
        retryBaseMs: 5,
        pollMs: 20,
        streamPrefix: prefix,
        ephemeralRedis: 'accept',
      });
      buses.push(bus);
      const publisher = bus.publisher('pub', pub);
      bus.subscribe('sub.role', sub, 'burst', handler);
      // All published before the bus starts: they wait together, as a burst does while the consumer is busy.
      await pub.db.transaction().execute(async (trx) => {
        for (let i = 0; i < N; i++) await publisher.publish(trx, topicNamed('burst'), { i });
      });
      await bus.start();
      return sub;
    }

    it(`${N} waiting events take a few consumer transactions, not ${N}`, async () => {
      const transactions = new Set<unknown>();
      const txids = new Set<string>();
      let applied = 0;
      const sub = await burst(async (_event, trx) => {
        // Each transaction is a commit (on SQLite an fsync): count the handler's transaction objects, and on Postgres its ids too.
        transactions.add(trx);
        if (setup.name.endsWith('Postgres')) txids.add(String((await sql<{ t: string }>`select txid_current() as t`.execute(trx)).rows[0].t));
        applied++;
      });
      await waitFor(
        'every event applied',
        async () =>
          Number(
            (
              await sub.db
                .selectFrom('inbox')
                .select((eb) => eb.fn.countAll().as('n'))
                .executeTakeFirstOrThrow()
            ).n,
          ) === N,
        20_000,
      );
      assert.equal(applied, N);
      assert.ok(transactions.size <= 5, `${N} events took ${transactions.size} transactions`);
      if (setup.name.endsWith('Postgres')) assert.equal(txids.size, transactions.size);
    });

    it('a handler failing in the middle: the events before and after are applied, in order; the failing one retried', async () => {
      const order: number[] = [];
      let failures = 0;
      await burst(async (event) => {
        const i = (event.payload as { i: number }).i;
        if (i === 50 && failures++ < 2) throw new Error('not yet');
        order.push(i);
      });
      await waitFor('every event applied', () => order.length === N, 20_000);
      assert.equal(failures, 3, 'two failed attempts, the third applied');
      assert.deepEqual(
        order,
        Array.from({ length: N }, (_, i) => i),
        'publish order kept',
      );
    });
  });
}

describe('batched apply, in a group commit another caller spoils (SQLite)', () => {
  let dbs: Databases;
  let mdb: ModuleDatabase;
  let consumer: Consumer;
  beforeEach(async () => {
    dbs = sqliteDatabases();
    mdb = await dbs.open(`spoiled${randomId()}`);
    await sql`create table spoiler (id integer primary key)`.execute(mdb.db);
    consumer = new Consumer({ log: silentLog, metrics: createBusMetrics(new Registry(), { outboxes: async () => [] }), maxAttempts: 1, retryBaseMs: 1 });
  });
  afterEach(() => dbs.dispose());

  /** A caller that fails after writing, submitted just after the consumer's work, so that both share a group commit. */
  async function spoil(): Promise<void> {
    for (let i = 0; i < 5; i++) await Promise.resolve();
    const spoiling = writeTransaction(mdb.db, async (trx) => {
      await sql`insert into spoiler (id) values (1)`.execute(trx);
      throw new Error('refused after writing');
    });
    await assert.rejects(spoiling, /refused after writing/);
  }

  it('one event: what its handler left for after the commit runs once', async () => {
    let runs = 0;
    let afterCommit = 0;
    const sub = {
      consumer: 'sub.role',
      topic: 'burst',
      mdb,
      handler: async (_event: BusEvent, _trx: Transaction<unknown>, later: (fn: () => void) => void) => {
        runs++;
        later(() => afterCommit++);
      },
    };
    const applying = consumer.deliver(sub, { id: randomId(), topic: 'burst', payload: {}, createdAt: new Date().toISOString(), source: 'pub' });
    await spoil();
    assert.equal(await applying, 'applied');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(runs, 2, 'the premise: the handler ran again');
    assert.equal(afterCommit, 1);
  });

  it('the batch runs again and each event is done once, with its outcome, and applied once', async () => {
    let runs = 0;
    const sub = {
      consumer: 'sub.role',
      topic: 'burst',
      mdb,
      handler: async () => {
        runs++;
      },
    };
    const events: BusEvent[] = [1, 2, 3].map((i) => ({ id: randomId(), topic: 'burst', payload: { i }, createdAt: new Date().toISOString(), source: 'pub' }));
    const done: Array<[unknown, string]> = [];
    // The consumer's batch is submitted first; a caller that fails after writing joins the same group commit.
    const applying = consumer.deliverMany(sub, events, (event, outcome) => done.push([event.payload, outcome]));
    await spoil();
    await applying;
    assert.ok(runs > 3, `the premise: the consumer's work ran again (${runs} handler calls)`);
    assert.deepEqual(done, [
      [{ i: 1 }, 'applied'],
      [{ i: 2 }, 'applied'],
      [{ i: 3 }, 'applied'],
    ]);
    assert.equal(Number((await sql<{ n: number }>`select count(*) as n from inbox`.execute(mdb.db)).rows[0].n), 3);
    assert.equal(Number((await sql<{ n: number }>`select count(*) as n from spoiler`.execute(mdb.db)).rows[0].n), 0);
  });
});
