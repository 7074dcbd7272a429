// The events store on SQLite AND Postgres, same tests: idempotency, ranges, cursors, stats, audit index, group commit.
import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { sql } from 'kysely';
import { openModuleDatabase, type ModuleDatabase } from '../../../db/database.ts';
import { createGroupCommit } from '../../../db/group-commit.ts';
import { migrateDown, migrateUp } from '../../../db/migrator.ts';
import { AppError } from '../../../kernel/errors.ts';
import { createLogger } from '../../../kernel/logger.ts';
import { createTestDatabase, gate, tempDir } from '../../../kernel/testing/index.ts';
import type { ListInput, StoreInput } from '../contract.ts';
import { migrations } from '../migrations/index.ts';
import { createEventStore, listQueryOf, type EventStore } from './store/event-store.ts';
import { startSqliteWriter, type SqliteWriter } from './store/sqlite-writer.ts';

const log = createLogger('silent');
const FIXED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let n = 0;
const snow = (depth: number, trace = `t-${++n}`): StoreInput => ({
  kind: 'snow_report',
  trace_id: trace,
  event: { device_id: 'd1', resort_id: 'r1', depth, timestamp: '2024-01-01T10:00:00+01:00' },
});
const lift = (wait: number, trace = `l-${++n}`): StoreInput => ({
  kind: 'lift_ride',
  trace_id: trace,
  event: { device_id: 'd2', resort_id: 'r1', lift_id: 'gondola', wait_minutes: wait, timestamp: '2024-01-01T10:00:00Z' },
});

async function rejectsWith(p: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof AppError && err.code === code && err.status === status);
}

interface Target {
  open(): Promise<ModuleDatabase>;
  cleanup(): Promise<void>;
  /** A second writer of the same database, as another process would be (undefined: not supported). */
  thread?: boolean;
}

const writers: SqliteWriter[] = [];
after(() => Promise.all(writers.map((w) => w.close())));

/** The store as the storage role builds it: on SQLite files, writes go through the writer thread. */
async function storeOn(mdb: ModuleDatabase, thread: boolean): Promise<EventStore> {
  if (!thread) return createEventStore(mdb.db, mdb.dialect, { read: mdb.read, sqlite: mdb.sqlite });
  const { rows } = await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(mdb.db);
  const writer = startSqliteWriter(rows[0].file, log);
  writers.push(writer);
  return createEventStore(mdb.db, mdb.dialect, { read: mdb.read, writer: writer.write });
}

function storeSuite(label: string, makeTarget: () => Promise<Target>, needs: { skip?: string } = {}): void {
  describe(`events store on ${label}`, needs, () => {
    let target: Target;
    let mdb: ModuleDatabase;
    let store: EventStore;

    before(async () => {
      target = await makeTarget();
      mdb = await target.open();
      await migrateUp(mdb, migrations);
    });
    after(async () => {
      await mdb?.close();
      await target?.cleanup();
    });
    // Each test starts from empty tables.
    const fresh = async () => {
      await migrateDown(mdb, migrations);
      await migrateUp(mdb, migrations);
      store ??= await storeOn(mdb, target.thread === true);
    };

    it('stores events with a dense arrival index, trace id and fixed-width date_created', async () => {
      await fresh();
      const [a, b] = await store.writeBatch([snow(10), snow(20)]);
      const [c] = await store.writeBatch([lift(5)]);
      assert.equal(a.index, 0);
      assert.equal(b.index, 1);
      assert.equal(c.index, 0, 'each kind counts its own arrivals');
      assert.match(a.date_created, FIXED);
      const read = await store.byTrace('snow_report', b.trace_id);
      assert.deepEqual(read, {
        trace_id: b.trace_id,
        index: 1,
        device_id: 'd1',
        resort_id: 'r1',
        depth: 20,
        timestamp: '2024-01-01T10:00:00+01:00',
        date_created: b.date_created,
      });
      assert.deepEqual(await store.at('lift_ride', 0), {
        trace_id: c.trace_id,
        index: 0,
        device_id: 'd2',
        resort_id: 'r1',
        lift_id: 'gondola',
        wait_minutes: 5,
        timestamp: '2024-01-01T10:00:00Z',
        date_created: c.date_created,
      });
    });

    it('stores a trace id once: a retry, in a later batch or the same one, gets the first answer', async () => {
      await fresh();
      const [first] = await store.writeBatch([snow(10, 'same')]);
      await sleep(3);
      const again = await store.writeBatch([snow(99, 'new-1'), snow(77, 'same'), snow(30, 'new-2'), snow(55, 'new-2')]);
      assert.deepEqual(again[1], first, 'the retry answers like the first store');
      assert.deepEqual(again[3], again[2], 'a duplicate within one batch gets the same answer');
      assert.deepEqual([again[0].index, again[2].index], [1, 2], 'new events take the next indices, no gap');
      const stats = await store.stats();
      assert.equal(stats.snow_reports.count, 3);
      assert.equal(stats.snow_reports.max_depth, 99, 'the retried depth 77 and the duplicate 55 are not counted');
      assert.equal(stats.snow_reports.avg_depth, (10 + 99 + 30) / 3);
      assert.equal(((await store.byTrace('snow_report', 'same')) as { depth: number }).depth, 10, 'first write wins');
      await rejectsWith(store.at('snow_report', 3), 'EVENT_NOT_FOUND', 404);
      // The same trace id is independent per kind.
      const [ride] = await store.writeBatch([lift(1, 'same')]);
      assert.equal(ride.index, 0);
    });

    it('a failing batch stores nothing of itself and leaves stats unchanged', async () => {
      await fresh();
      await store.writeBatch([snow(1)]);
      const bad = { ...snow(500), trace_id: null } as unknown as StoreInput;
      const good = Array.from({ length: 200 }, (_, i) => snow(400, `good-${i}`)); // a transaction long enough to interleave with
      const failing = store.writeBatch([snow(400, 'ok-in-bad-batch'), ...good, lift(9), bad]);
      // Reads issued while the batch runs must not see its rows before (here: instead of) its commit.
      const during = (async () => {
        for (let i = 0; i < 300; i++) await rejectsWith(store.byTrace('snow_report', 'ok-in-bad-batch'), 'EVENT_NOT_FOUND', 404);
      })();
      await assert.rejects(failing);
      await during;
      await rejectsWith(store.byTrace('snow_report', 'ok-in-bad-batch'), 'EVENT_NOT_FOUND', 404);
      const stats = await store.stats();
      assert.equal(stats.snow_reports.count, 1);
      assert.equal(stats.snow_reports.max_depth, 1);
      assert.equal(stats.lift_rides.count, 0);
      const [next] = await store.writeBatch([snow(2)]);
      assert.equal(next.index, 1, 'the failed batch used no index');
    });

    it('lists by date_created: start inclusive, end exclusive, any offset, sub-ms bounds round up', async () => {
      await fresh();
      const stamps: string[] = [];
      for (let i = 0; i < 4; i++) {
        stamps.push((await store.writeBatch([snow(i)]))[0].date_created);
        await sleep(3);
      }
      assert.deepEqual([...stamps].sort(), stamps);
      const traces = async (start: string, end: string) =>
        (await store.list({ kind: 'snow_report', start_timestamp: start, end_timestamp: end })).items.map((e) => (e as { depth: number }).depth);
      assert.deepEqual(await traces(stamps[1], stamps[3]), [1, 2]);
      assert.deepEqual(await traces(stamps[0], stamps[0]), [], 'an empty range');
      assert.deepEqual(await traces('2000-01-01T00:00:00Z', '2999-01-01T00:00:00Z'), [0, 1, 2, 3]);
      assert.deepEqual(await traces(stamps[1].replace('Z', '1Z'), stamps[3].replace('Z', '1Z')), [2, 3], '+0.1 µs excludes the start, includes the end');
      // The same instant as the clock two hours east shows it (the date too, past midnight there).
      const shifted = new Date(Date.parse(stamps[1]) + 2 * 3600_000).toISOString().replace('Z', '+02:00');
      assert.deepEqual(await traces(shifted, stamps[3]), [1, 2], 'the same instant written with an offset');
      assert.deepEqual(await traces('2999-01-01T00:00:00Z', '2999-01-02T00:00:00Z'), []);
      await rejectsWith(store.list({ kind: 'snow_report', start_timestamp: stamps[3], end_timestamp: stamps[0] }), 'INVALID_RANGE', 400);
      await rejectsWith(store.list({ kind: 'snow_report', start_timestamp: '9999-12-31T23:30:00-01:00', end_timestamp: stamps[0] }), 'INVALID_RANGE', 400);
    });

    it('pages with an opaque cursor over (date_created, index) without loss or repeats', async () => {
      await fresh();
      // Several events share a date_created (same batch): the index breaks the tie.
      for (let b = 0; b < 5; b++) {
        await store.writeBatch(Array.from({ length: 5 }, (_, i) => snow(b * 5 + i)));
        await sleep(2);
      }
      const range = { kind: 'snow_report' as const, start_timestamp: '2000-01-01T00:00:00Z', end_timestamp: '2999-01-01T00:00:00Z' };
      // As the facade lists: the cursor arrives as text.
      const list = async (input: ListInput) => store.list(listQueryOf(input));
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await list({ ...range, limit: 7, cursor });
        seen.push(...page.items.map((e) => e.index));
        cursor = page.next_cursor ?? undefined;
        pages++;
      } while (cursor && pages < 10);
      assert.equal(pages, 4);
      assert.deepEqual(
        seen,
        Array.from({ length: 25 }, (_, i) => i),
      );
      const first = await store.list({ ...range, limit: 25 });
      assert.equal(first.next_cursor, null, 'no cursor when the page holds the rest');
      const two = await store.list({ ...range, limit: 2 });
      await rejectsWith(list({ ...range, kind: 'lift_ride', cursor: two.next_cursor! }), 'VALIDATION_ERROR', 400);
      await rejectsWith(list({ ...range, cursor: 'not-a-cursor' }), 'VALIDATION_ERROR', 400);
      await rejectsWith(list({ ...range, cursor: Buffer.from('["snow_report","x",1]').toString('base64url') }), 'VALIDATION_ERROR', 400);
    });

    it('keeps stats per kind in the same transaction as the inserts', async () => {
      await fresh();
      const empty = await store.stats();
      assert.deepEqual(empty, {
        snow_reports: { count: 0, max_depth: null, avg_depth: null, last_updated: null },
        lift_rides: { count: 0, max_wait_minutes: null, avg_wait_minutes: null, last_updated: null },
        last_updated: null,
      });
      await store.writeBatch([snow(10), snow(0), lift(4)]);
      await sleep(3);
      const [last] = await store.writeBatch([lift(12), snow(5)]);
      const stats = await store.stats();
      assert.deepEqual(stats, {
        snow_reports: { count: 3, max_depth: 10, avg_depth: 5, last_updated: last.date_created },
        lift_rides: { count: 2, max_wait_minutes: 12, avg_wait_minutes: 8, last_updated: last.date_created },
        last_updated: last.date_created,
      });
    });

    it('group commit: 500 concurrent submits become a few transactions, every one acknowledged and stored', async () => {
      await fresh();
      const sizes: number[] = [];
      const gc = createGroupCommit(store.writeBatch, { maxBatch: 100, onFlush: ({ size }) => sizes.push(size) });
      const items = Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? lift(i % 60) : snow(i)));
      const results = await Promise.all(items.map((it) => gc.submit(it)));
      assert.ok(sizes.length <= 10, `500 submits took ${sizes.length} flushes`);
      assert.ok(Math.max(...sizes) <= 100);
      for (const [i, r] of results.entries()) assert.equal(r.trace_id, items[i].trace_id);
      const stats = await store.stats();
      assert.equal(stats.lift_rides.count + stats.snow_reports.count, 500);
      const snowIdx = results
        .filter((_, i) => items[i].kind === 'snow_report')
        .map((r) => r.index)
        .sort((a, b) => a - b);
      assert.deepEqual(
        snowIdx,
        Array.from({ length: snowIdx.length }, (_, i) => i),
      );
      const lastSnow = await store.at('snow_report', snowIdx.length - 1);
      assert.ok(lastSnow.trace_id.startsWith('t-'));
    });

    // Not with two SQLite connections in ONE thread: the second's busy wait would block the event
    // loop the first needs to commit. Writer threads (or processes) are fine.
    it('two writers on the same database never collide on an index', { skip: label === 'sqlite (main thread)' && 'two writers need two threads' }, async () => {
      await fresh();
      const other = await target.open();
      try {
        const second = await storeOn(other, target.thread === true);
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 20; i++) {
          writes.push(store.writeBatch([snow(i), snow(i), snow(i)].map((e, j) => ({ ...e, trace_id: `a-${i}-${j}` }))));
          writes.push(second.writeBatch([snow(i), snow(i)].map((e, j) => ({ ...e, trace_id: `b-${i}-${j}` }))));
          writes.push(second.writeBatch([snow(i, `a-${i}-0`)])); // a retry racing the first store
        }
        await Promise.all(writes);
        const stats = await store.stats();
        assert.equal(stats.snow_reports.count, 100);
        const page = await store.list({ kind: 'snow_report', start_timestamp: '2000-01-01T00:00:00Z', end_timestamp: '2999-01-01T00:00:00Z', limit: 1000 });
        assert.deepEqual(
          page.items.map((e) => e.index).sort((a, b) => a - b),
          Array.from({ length: 100 }, (_, i) => i),
        );
      } finally {
        await other.close();
      }
    });
  });
}

storeSuite('sqlite (main thread)', async () => {
  const dir = tempDir('cantons-events-');
  return { open: () => openModuleDatabase('events', { dataDir: dir, log }), cleanup: async () => {} };
});

storeSuite('sqlite (writer thread)', async () => {
  const dir = tempDir('cantons-events-');
  return { open: () => openModuleDatabase('events', { dataDir: dir, log }), cleanup: async () => {}, thread: true };
});

storeSuite(
  'postgres',
  async () => {
    const database = await createTestDatabase('cantons_events');
    return {
      open: () => openModuleDatabase('events', { dataDir: ':memory:', databaseUrl: database.url, log }),
      cleanup: () => database.drop(),
    };
  },
  await gate('postgres'),
);
