// The benchmark migrations up and down on a populated database, on both dialects; 003's count of open documents starts right.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { ModuleDatabase } from '../../../db/database.ts';
import { migratorFor } from '../../../db/migrator.ts';
import { gate, ENGINES } from '../../../kernel/testing/index.ts';
import { migrations } from './index.ts';

const log = pino({ level: 'silent' });
const now = new Date().toISOString();

async function indexes(mdb: ModuleDatabase): Promise<string[]> {
  const tables = await mdb.db.introspection.getTables();
  assert.ok(tables.some((t) => t.name === 'documents'));
  const q =
    mdb.dialect === 'postgres'
      ? await mdb.db.selectFrom('pg_indexes').select('indexname as name').where('schemaname', '=', mdb.schema!).execute()
      : await mdb.db.selectFrom('sqlite_master').select('name').where('type', '=', 'index').execute();
  return q.map((r) => r.name as string).filter((n) => n.startsWith('documents_') || n.startsWith('benchmarks_'));
}

/** A benchmark with three documents: one done, one with a start only, one not called back. */
async function populate(db: ModuleDatabase['db']): Promise<void> {
  await db
    .insertInto('benchmarks')
    .values({
      id: 'b1',
      name: 'n',
      benchmark_type: 'latency',
      target_infra: 'local',
      target_url: 't:1',
      target_base: 'http://t:1',
      target_host: 't:1',
      eigen_version: '1',
      username: 'u',
      status: 'running',
      options: '{}',
      deadline_ms: 0,
      created_at: now,
    })
    .execute();
  await db
    .insertInto('documents')
    .values([
      { benchmark_id: 'b1', position: 1, name: 'a', size_bytes: 1, start_time: 1, end_time: 2 },
      { benchmark_id: 'b1', position: 2, name: 'b', size_bytes: 1, start_time: 1, end_time: null },
      { benchmark_id: 'b1', position: 3, name: 'c', size_bytes: 1, start_time: null, end_time: null },
    ])
    .execute();
}

for (const dialect of ENGINES) {
  describe(`benchmark migrations (${dialect.name})`, await gate(...dialect.needs), () => {
    it('003 counts the open documents of existing benchmarks and replaces the partial index; every down works on data', async () => {
      const { mdb, drop } = await dialect.open('benchmark', log);
      const migrator = migratorFor(mdb, migrations);
      try {
        assert.equal((await migrator.migrateTo('002_callback_indexes')).error, undefined);
        await populate(mdb.db);
        assert.ok((await indexes(mdb)).includes('documents_unfinished'));

        assert.equal((await migrator.migrateTo('003_open_documents')).error, undefined);
        const row = await mdb.db.selectFrom('open_documents').select(['benchmark_id', 'remaining']).executeTakeFirstOrThrow();
        assert.deepEqual([row.benchmark_id, Number(row.remaining)], ['b1', 2], 'b and c are open');
        assert.ok(!(await indexes(mdb)).includes('documents_unfinished'));
        assert.equal((await migrator.migrateUp()).error, undefined, '004 on a populated database');
        const b1 = await mdb.db.selectFrom('benchmarks').select('step_lease_ms').executeTakeFirstOrThrow();
        assert.equal(b1.step_lease_ms, null, 'no step lease on existing benchmarks');

        for (const name of ['004_calls_after_commit', '003_open_documents', '002_callback_indexes', '001_init']) {
          const result = await migrator.migrateDown();
          assert.equal(result.error, undefined, `down ${name}: ${result.error}`);
          assert.deepEqual(
            result.results?.map((r) => r.migrationName),
            [name],
          );
          if (name === '003_open_documents') {
            assert.ok((await indexes(mdb)).includes('documents_unfinished'));
            assert.ok(!(await mdb.db.introspection.getTables()).some((t) => t.name === 'open_documents'));
          }
        }
        assert.equal((await migrator.migrateToLatest()).error, undefined, 'and up again from nothing');
      } finally {
        await mdb.close();
        await drop();
      }
    });
  });
}
