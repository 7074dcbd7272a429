// The callback queries, one behaviour suite on both implementations: SQLite's prepared statements and Postgres's query
// builder (callback-sql.ts). A time once set stays: a replay, even with other times, writes nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { migrateUp } from '../../../db/migrator.ts';
import { ENGINES, gate } from '../../../kernel/testing/index.ts';
import { migrations } from '../migrations/index.ts';
import { type CallbackQueries, kyselyCallbackQueries, sqliteCallbackQueries } from './callback-sql.ts';
import { createStore } from './store.ts';

const log = pino({ level: 'silent' });
const HOST = 'target:8080';

/** Two running benchmarks of one project on one host (the newer created later), each with documents a and b. */
async function populate(db: Kysely<any>): Promise<void> {
  for (const [id, created_at] of [
    ['old', '2026-01-01T00:00:00.000Z'],
    ['new', '2026-01-01T00:00:01.000Z'],
  ]) {
    await db
      .insertInto('benchmarks')
      .values({
        id,
        name: id,
        benchmark_type: 'latency',
        target_infra: 'local',
        target_url: HOST,
        target_base: `http://${HOST}`,
        target_host: HOST,
        eigen_version: '1',
        username: 'u',
        project_id: 'p1',
        status: 'running',
        options: '{}',
        deadline_ms: 0,
        created_at,
      })
      .execute();
    await db
      .insertInto('documents')
      .values([
        { benchmark_id: id, position: 1, name: 'a', size_bytes: 1 },
        { benchmark_id: id, position: 2, name: 'b', size_bytes: 1 },
      ])
      .execute();
    await db.insertInto('open_documents').values({ benchmark_id: id, remaining: 2 }).execute();
  }
}

for (const engine of ENGINES) {
  describe(`callback queries (${engine.name})`, await gate(...engine.needs), () => {
    it('match is newest first; recordTimes writes only missing times and never overwrites one; closeDocuments counts down', async () => {
      const { mdb, drop } = await engine.open('benchmark', log);
      try {
        await migrateUp(mdb, migrations);
        await populate(mdb.db);
        const queries: CallbackQueries = mdb.sqlite ? sqliteCallbackQueries(mdb.sqlite) : kyselyCallbackQueries(createStore(mdb.db), true);
        /** Matches `name` and records the times on the newest match, in one transaction, as a batch does. */
        const record = (name: string, start: number | null, end: number | null) =>
          mdb.db.transaction().execute(async (trx) => {
            const [newest] = await queries.match(trx, HOST, 'p1', name);
            return queries.recordTimes(trx, newest, name, `eigen-${name}`, start, end);
          });
        const documents = () =>
          mdb.db
            .selectFrom('documents')
            .select(['benchmark_id', 'name', 'start_time', 'end_time', 'eigen_document_id'])
            .orderBy('benchmark_id')
            .orderBy('name')
            .execute();

        const matches = await mdb.db.transaction().execute(async (trx) => queries.match(trx, HOST, 'p1', 'a'));
        assert.deepEqual(
          matches.map(({ id, status, closing, start_time, end_time }) => ({ id, status, closing, start_time, end_time })),
          [
            { id: 'new', status: 'running', closing: null, start_time: null, end_time: null },
            { id: 'old', status: 'running', closing: null, start_time: null, end_time: null },
          ],
        );
        assert.deepEqual(await mdb.db.transaction().execute(async (trx) => queries.match(trx, HOST, 'p1', 'nope')), []);
        assert.deepEqual(await mdb.db.transaction().execute(async (trx) => queries.match(trx, 'other:1', 'p1', 'a')), []);

        assert.deepEqual(await record('a', 1000, null), { start_time: 1000, end_time: null }, 'a start alone');
        assert.equal(await record('a', 1000, null), undefined, 'the same start again writes nothing');
        assert.equal(await record('a', 999, null), undefined, 'another start writes nothing');
        assert.deepEqual(await record('a', 999, 1002.5), { start_time: 1000, end_time: 1002.5 }, 'the end is written, the start kept');
        assert.equal(await record('a', 1, 2), undefined, 'both times again write nothing');
        assert.deepEqual(await record('b', null, 1004), { start_time: null, end_time: 1004 }, 'an end before its start');
        assert.deepEqual(await record('b', 1001, 5), { start_time: 1001, end_time: 1004 }, 'the start is written, the end kept');

        assert.deepEqual(
          (await documents()).map((d) => ({
            ...d,
            start_time: d.start_time === null ? null : Number(d.start_time),
            end_time: d.end_time === null ? null : Number(d.end_time),
          })),
          [
            { benchmark_id: 'new', name: 'a', start_time: 1000, end_time: 1002.5, eigen_document_id: 'eigen-a' },
            { benchmark_id: 'new', name: 'b', start_time: 1001, end_time: 1004, eigen_document_id: 'eigen-b' },
            { benchmark_id: 'old', name: 'a', start_time: null, end_time: null, eigen_document_id: null },
            { benchmark_id: 'old', name: 'b', start_time: null, end_time: null, eigen_document_id: null },
          ],
          'the newest benchmark only',
        );

        const close = (id: string, n: number) => mdb.db.transaction().execute(async (trx) => queries.closeDocuments(trx, id, n));
        assert.equal(await close('new', 1), 1);
        assert.equal(await close('new', 1), 0);
        assert.equal(await close('old', 2), 0);
      } finally {
        await mdb.close();
        await drop();
      }
    });
  });
}
