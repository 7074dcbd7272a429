// Inline delivery (BusOptions.inline): an event whose subscribers share its publisher's database is applied in the
// publishing transaction; anything else about it — a handler that throws, another database, an event waiting in the
// outbox — sends it the usual way. On SQLite files and on Postgres.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { sql, type Kysely } from 'kysely';
import { writeTransaction } from '../../db/write-transaction.ts';
import { counter } from '../testing/bus-contract.ts';
import { appliedRows, postgresDatabases, recordingHandler, silentLog, sqliteDatabases, topicNamed, type Databases } from '../testing/bus.ts';
import { gate, waitFor } from '../testing/index.ts';
import { createBus } from './index.ts';
import { writeOutbox } from './outbox.ts';
import { asBusTables } from './tables.ts';
import type { Bus, EventHandler, Publisher } from './types.ts';

const pgGate = await gate('postgres');
const TOPIC = topicNamed('thing_done');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = async (db: Kysely<any>, table: string) => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db)).rows[0].n);

for (const engine of [
  { name: 'SQLite', databases: async () => sqliteDatabases(), skip: undefined },
  { name: 'Postgres', databases: postgresDatabases, skip: pgGate.skip },
]) {
  describe(`inline delivery (${engine.name})`, { skip: engine.skip }, () => {
    let dbs: Databases | undefined;
    const buses: Bus[] = [];
    after(async () => {
      await Promise.all(buses.map((b) => b.stop()));
      await dbs?.dispose();
    });

    /** A started bus whose relay has looked at its empty outbox once (so an event may skip it). */
    async function setUp(handler: EventHandler, opts: { inline?: boolean; consumerDb?: 'own' | 'other' } = {}) {
      dbs ??= await engine.databases();
      const mdb = await dbs.open(`inline_${buses.length}`);
      const cdb = opts.consumerDb === 'other' ? await dbs.open(`inline_${buses.length}_other`) : mdb;
      const metrics = new Registry();
      const bus = createBus({ log: silentLog, metrics, maxAttempts: 5, retryBaseMs: 5, pollMs: 10, inline: opts.inline ?? true });
      buses.push(bus);
      const publisher: Publisher = bus.publisher('inline', mdb);
      bus.subscribe('inline.worker', cdb, TOPIC.name, handler);
      await bus.start();
      await sleep(150);
      const publish = (payload: unknown, then?: (trx: Kysely<any>) => Promise<void>) =>
        writeTransaction(mdb.db, async (trx) => {
          const id = await publisher.publish(trx, TOPIC, payload);
          await then?.(trx);
          return id;
        });
      return { mdb, cdb, metrics, publish, publisher };
    }

    it('applies the event in the publishing transaction: committed with it, no outbox row, no inbox entry, afterCommit after the commit', async () => {
      const ran: string[] = [];
      const { mdb, publish } = await setUp(async (event, trx, afterCommit) => {
        await recordingHandler('inline.worker')(event, trx, afterCommit);
        afterCommit(() => ran.push('after commit'));
      });
      await publish({ n: 1 }, async (trx) => {
        assert.equal(await count(trx, 'applied'), 1, 'applied inside the publishing transaction');
        assert.equal(await count(trx, 'outbox'), 0, 'no outbox row');
        await sleep(20);
        assert.deepEqual(ran, [], 'afterCommit work waits for the commit');
      });
      await sleep(0);
      assert.deepEqual(ran, ['after commit']);
      assert.equal(await count(mdb.db, 'inbox'), 0, 'no inbox entry: nothing can deliver it twice');
      assert.deepEqual(
        (await appliedRows(mdb)).map((r) => JSON.parse(r.payload)),
        [{ n: 1 }],
      );
    });

    it('a rolled-back publishing transaction keeps nothing of the handler and runs none of its afterCommit work', async () => {
      const ran: string[] = [];
      const { mdb, publish } = await setUp(async (event, trx, afterCommit) => {
        await recordingHandler('inline.worker')(event, trx, afterCommit);
        afterCommit(() => ran.push('after commit'));
      });
      await assert.rejects(
        publish({ n: 1 }, async () => {
          throw new Error('the publisher changed its mind');
        }),
        /changed its mind/,
      );
      await sleep(100);
      assert.equal((await appliedRows(mdb)).length, 0);
      assert.deepEqual(ran, []);
    });

    it('a handler that throws keeps nothing; the event takes the outbox and is applied once it recovers', async () => {
      // Refused in the publishing transaction, however often it runs (a spoiled batch runs again), and not after it.
      let publishing = true;
      const { mdb, metrics, publish } = await setUp(async (event, trx, afterCommit) => {
        // Written, then refused: nothing of it may stay.
        await recordingHandler('inline.worker')(event, trx, afterCommit);
        if (publishing) throw new Error('not yet');
      });
      await publish({ n: 1 }, async (trx) => {
        assert.equal(await count(trx, 'applied'), 0, 'the failed handler left no row');
        assert.equal(await count(trx, 'outbox'), 1, 'the event went to the outbox');
      });
      publishing = false;
      await waitFor('applied through the relay', async () => (await appliedRows(mdb)).length >= 1, 5000);
      await sleep(100);
      assert.equal((await appliedRows(mdb)).length, 1, 'applied once');
      assert.equal(await count(mdb.db, 'outbox'), 0);
      assert.equal(await counter(metrics, 'cantons_bus_handler_failures_total'), 1);
    });

    it('two events in one transaction: the second handler failing takes back only its own work', async () => {
      // Refused in the publishing transaction, however often it runs (a spoiled batch runs again), and not after it.
      let publishing = true;
      const { mdb, publish, publisher } = await setUp(async (event, trx, afterCommit) => {
        await recordingHandler('inline.worker')(event, trx, afterCommit);
        if ((event.payload as { n: number }).n === 2 && publishing) throw new Error('not this one, not yet');
      });
      await publish({ n: 1 }, async (trx) => {
        await publisher.publish(trx, TOPIC, { n: 2 });
        assert.equal(await count(trx, 'applied'), 1, 'the first kept, the second taken back');
        assert.equal(await count(trx, 'outbox'), 1, 'the second to the outbox');
      });
      publishing = false;
      await waitFor('the second applied through the relay', async () => (await appliedRows(mdb)).length === 2, 5000);
    });

    it('an event behind one still in the outbox takes the outbox too, and they are applied in order', async () => {
      let calls = 0;
      const { mdb, publish } = await setUp(async (event, trx, afterCommit) => {
        if (++calls === 1) throw new Error('not yet');
        await recordingHandler('inline.worker')(event, trx, afterCommit);
      });
      await publish({ n: 1 });
      await publish({ n: 2 }, async (trx) => assert.equal(await count(trx, 'applied'), 0, 'not applied ahead of the first'));
      await waitFor('both applied', async () => (await appliedRows(mdb)).length === 2, 5000);
      assert.deepEqual(
        (await appliedRows(mdb)).map((r) => JSON.parse(r.payload).n),
        [1, 2],
      );
    });

    it('an event written to the outbox by another process is not overtaken either', async () => {
      let started!: () => void;
      const firstStarted = new Promise<void>((resolve) => (started = resolve));
      const { mdb, publish } = await setUp(async (event, trx, afterCommit) => {
        if ((event.payload as { n: number }).n === 1) {
          started();
          await sleep(200);
        }
        await recordingHandler('inline.worker')(event, trx, afterCommit);
      });
      // Another process sharing this outbox wrote it: nobody here nudged the relay.
      await writeOutbox(asBusTables(mdb.db), 'inline', TOPIC.name, { n: 1 });
      await firstStarted;
      await publish({ n: 2 });
      await waitFor('both applied', async () => (await appliedRows(mdb)).length === 2, 5000);
      assert.deepEqual(
        (await appliedRows(mdb)).map((r) => JSON.parse(r.payload).n),
        [1, 2],
      );
    });

    it('takes the outbox when a subscriber keeps its inbox in another database, or when inline is off', async () => {
      for (const opts of [{ consumerDb: 'other' as const }, { inline: false }]) {
        const { cdb, publish } = await setUp(recordingHandler('inline.worker'), opts);
        await publish({ n: 1 }, async (trx) => assert.equal(await count(trx, 'outbox'), 1, JSON.stringify(opts)));
        await waitFor('applied through the relay', async () => (await appliedRows(cdb)).length === 1, 5000);
        assert.equal(await count(cdb.db, 'inbox'), 1, 'through the inbox');
      }
    });
  });
}
