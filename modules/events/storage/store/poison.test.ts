// A poison pill in a group commit: one event the database refuses fails alone; the other events of its batch commit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { openModuleDatabase, type ModuleDatabase } from '../../../../db/database.ts';
import { migrateUp } from '../../../../db/migrator.ts';
import { createLogger } from '../../../../kernel/logger.ts';
import { createTestDatabase, gate, tempDir } from '../../../../kernel/testing/index.ts';
import type { StoreInput } from '../../contract.ts';
import { migrations } from '../../migrations/index.ts';
import { storageMetrics } from '../metrics.ts';
import { createStorageService } from '../service.ts';
import { createEventStore } from './event-store.ts';
import { mayBeOneEvent } from './write-batch.ts';
import { sqliteFile, startSqliteWriter } from './sqlite-writer.ts';

const log = createLogger('silent');

const snow = (trace: string, deviceId: unknown = 'd1'): StoreInput =>
  ({ kind: 'snow_report', trace_id: trace, event: { device_id: deviceId, resort_id: 'r1', depth: 10, timestamp: '2024-01-01T10:00:00Z' } }) as StoreInput;

interface Setup {
  open(): Promise<{ mdb: ModuleDatabase; cleanup(): Promise<void> }>;
  thread?: boolean;
  /** Per-row failures this engine refuses inside the batch's transaction. */
  poisons: Array<[string, unknown]>;
}

function poisonSuite(label: string, setup: Setup, needs: { skip?: string } = {}): void {
  describe(`group commit with a poison pill, ${label}`, needs, () => {
    let mdb: ModuleDatabase;
    let cleanup: () => Promise<void>;
    let closeWriter: (() => Promise<void>) | undefined;
    before(async () => {
      ({ mdb, cleanup } = await setup.open());
      await migrateUp(mdb, migrations);
    });
    after(async () => {
      await closeWriter?.();
      await mdb?.close();
      await cleanup?.();
    });

    for (const [what, poison] of setup.poisons) {
      it(`150 valid events and one with ${what}, in one batch: the 150 are stored, only the bad one fails`, async () => {
        let writer: ReturnType<typeof startSqliteWriter> | undefined;
        if (setup.thread) {
          writer = startSqliteWriter((await sqliteFile(mdb.db))!, log);
          closeWriter = () => writer!.close();
          while (!writer.ready()) await new Promise((r) => setTimeout(r, 10));
        }
        const store = createEventStore(mdb.db, mdb.dialect, { read: mdb.read, writer: writer?.write, sqlite: mdb.sqlite });
        const service = createStorageService(store, { maxBatch: 500, log, metrics: storageMetrics(new Registry()) });
        const before = (await store.stats()).snow_reports.count;
        const tag = `${what.replace(/\W+/g, '-')}-${Date.now()}`;
        const items = Array.from({ length: 151 }, (_, i) => (i === 75 ? snow(`${tag}-bad`, poison) : snow(`${tag}-${i}`)));
        // Submitted in one turn of the event loop: one batch (as 150 concurrent clients are).
        const settled = await Promise.allSettled(items.map((it) => service.store(it)));
        await service.close();
        await closeWriter?.();
        closeWriter = undefined;

        const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [i] : []));
        assert.deepEqual(failed, [75], `only the poison fails (${failed.length} failed)`);
        const indices = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.index] : []));
        assert.deepEqual(
          indices,
          Array.from({ length: 150 }, (_, i) => before + i),
          'dense indices, in arrival order',
        );
        // The store itself: the 150 rows, the stats counting exactly them, nothing of the poison.
        const { rows } = await sql<{ n: number }>`select count(*) as n from snow_reports where trace_id like ${`${tag}-%`}`.execute(mdb.db);
        assert.equal(Number(rows[0].n), 150);
        assert.equal((await store.stats()).snow_reports.count, before + 150);
        await assert.rejects(store.byTrace('snow_report', `${tag}-bad`), /There is no snow report/);
      });
    }

    it('an unreachable database is not split: the predicate says so', () => {
      assert.equal(mayBeOneEvent(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), false);
      assert.equal(mayBeOneEvent(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), false);
      assert.equal(mayBeOneEvent(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })), false);
      assert.equal(mayBeOneEvent(new Error('events writer thread exited with code 1')), false);
      assert.equal(mayBeOneEvent(Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' })), true);
      assert.equal(mayBeOneEvent(Object.assign(new Error('NOT NULL constraint failed'), { code: 'SQLITE_CONSTRAINT_NOTNULL' })), true);
    });
  });
}

const sqliteSetup = (thread: boolean): Setup => ({
  thread,
  open: async () => ({ mdb: await openModuleDatabase('events', { dataDir: tempDir('cantons-poison-'), log }), cleanup: async () => {} }),
  poisons: [['a null device_id (NOT NULL)', null]],
});

poisonSuite('sqlite (main thread)', sqliteSetup(false));
poisonSuite('sqlite (writer thread)', sqliteSetup(true));
poisonSuite(
  'postgres',
  {
    open: async () => {
      const database = await createTestDatabase('cantons_poison');
      return { mdb: await openModuleDatabase('events', { dataDir: ':memory:', databaseUrl: database.url, log }), cleanup: () => database.drop() };
    },
    // The NUL the HTTP edge now refuses; a direct facade call still reaches the database with it.
    poisons: [
      ['a NUL character', 'd\u00001'],
      ['a null device_id (NOT NULL)', null],
    ],
  },
  await gate('postgres'),
);
