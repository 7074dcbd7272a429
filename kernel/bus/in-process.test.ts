// The bus contract over the in-process adapter, on SQLite files and on Postgres schemas; plus lease renewal.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { busContract, counter } from '../testing/bus-contract.ts';
import { appliedRows, postgresDatabases, recordingHandler, silentLog, sqliteDatabases, topicNamed, type Databases } from '../testing/bus.ts';
import { gate, waitFor } from '../testing/index.ts';
import { createBus } from './index.ts';
import type { ModuleDatabase } from '../../db/database.ts';
import type { Bus, Publisher } from './types.ts';

const pgGate = await gate('postgres');

busContract({ name: 'in-process on SQLite', databases: async () => sqliteDatabases() });
busContract({ name: 'in-process on Postgres', databases: postgresDatabases, gate: pgGate });

describe('in-process relay leases (Postgres, two relays)', { skip: pgGate.skip }, () => {
  let dbs: Databases | undefined;
  const buses: Bus[] = [];
  after(async () => {
    await Promise.all(buses.map((b) => b.stop()));
    await dbs?.dispose();
  });

  it('keeps renewing the lease while slow handlers run, so the other relay never takes the batch', async () => {
    dbs = await postgresDatabases();
    const registries: Registry[] = [];
    let consumerDb: ModuleDatabase | undefined;
    let first: { pub: ModuleDatabase; publisher: Publisher } | undefined;
    for (let i = 0; i < 2; i++) {
      const pub = await dbs.open('lease-pub');
      const cdb = (consumerDb = await dbs.open('lease'));
      const metrics = new Registry();
      registries.push(metrics);
      // A lease far shorter than the handlers take: only renewal keeps the second relay off these rows.
      const bus = createBus({ log: silentLog, metrics, maxAttempts: 1, retryBaseMs: 5, pollMs: 10, leaseMs: 80 });
      buses.push(bus);
      const publisher = bus.publisher('lease-pub', pub);
      bus.subscribe(
        'lease.worker',
        cdb,
        'slow',
        recordingHandler('lease.worker', () => new Promise((r) => setTimeout(r, 100))),
      );
      if (i === 0) {
        first = { pub, publisher };
      }
    }
    // Rows written before either relay runs; the first relay to start claims all three (~300 ms of handlers).
    const ids = [];
    for (let k = 0; k < 3; k++) ids.push(await first!.pub.db.transaction().execute((trx) => first!.publisher.publish(trx, topicNamed('slow'), { k })));
    await buses[0].start();
    await new Promise((r) => setTimeout(r, 20));
    await buses[1].start();
    await waitFor('3 applied', async () => (await appliedRows(consumerDb!)).length === 3, 5000);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await appliedRows(consumerDb!)).length, 3);
    let duplicates = 0;
    for (const r of registries) duplicates += await counter(r, 'cantons_bus_duplicates_total');
    assert.equal(duplicates, 0, 'the second relay never delivered a leased row');
  });
});
