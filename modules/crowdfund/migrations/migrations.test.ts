// Every crowdfund migration up and down on a populated database, on both dialects (the original's down failed on any data).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { pino } from 'pino';
import type { ModuleDatabase } from '../../../db/database.ts';
import { migratorFor } from '../../../db/migrator.ts';
import { gate, ENGINES } from '../../../kernel/testing/index.ts';
import { migrations } from './index.ts';

const log = pino({ level: 'silent' });
const now = new Date().toISOString();

async function tables(mdb: ModuleDatabase): Promise<string[]> {
  const all = await mdb.db.introspection.getTables();
  return all
    .filter((t) => !mdb.schema || t.schema === mdb.schema)
    .map((t) => t.name)
    .filter((n) => !n.startsWith('migrations'))
    .sort();
}

async function columns(mdb: ModuleDatabase, table: string): Promise<string[]> {
  const all = await mdb.db.introspection.getTables();
  return all
    .find((t) => t.name === table && (!mdb.schema || t.schema === mdb.schema))!
    .columns.map((c) => c.name)
    .sort();
}

/** Rows as the original's tables held them: a project, its tags, a problem and a solution. */
async function populateOriginal(db: Kysely<any>): Promise<number> {
  const { id } = await db.insertInto('projects').values({ project_name: 'p', tagline: 't', created_at: now }).returning('id').executeTakeFirstOrThrow();
  await db
    .insertInto('tags')
    .values([
      { project_id: id, tag: 'a' },
      { project_id: id, tag: 'b' },
    ])
    .execute();
  await db
    .insertInto('threads')
    .values([
      { project_id: id, thread_type: 'problem', message: 'm1', created_at: now },
      { project_id: id, thread_type: 'solution', message: 'm2', created_at: now },
    ])
    .execute();
  return Number(id);
}

for (const dialect of ENGINES) {
  describe(`crowdfund migrations (${dialect.name})`, await gate(...dialect.needs), () => {
    it("up one at a time over the original's data, then every down on a populated database", async () => {
      const { mdb, drop } = await dialect.open('crowdfund', log);
      const migrator = migratorFor(mdb, migrations);
      const step = async (dir: 'up' | 'down', name: string) => {
        const result = dir === 'up' ? await migrator.migrateUp() : await migrator.migrateDown();
        assert.equal(result.error, undefined, `${dir} ${name}: ${result.error}`);
        assert.deepEqual(
          result.results?.map((r) => [r.migrationName, r.direction, r.status]),
          [[name, dir === 'up' ? 'Up' : 'Down', 'Success']],
        );
      };
      try {
        await step('up', '001_init');
        assert.deepEqual(await tables(mdb), ['projects', 'tags', 'threads']);
        const project = await populateOriginal(mdb.db);
        await assert.rejects(
          mdb.db.insertInto('threads').values({ project_id: project, thread_type: 'idea', message: 'x', created_at: now }).execute(),
          'three thread types only',
        );

        await step('up', '002_vote_counts');
        const counted = await mdb.db.selectFrom('threads').select(['up_votes', 'down_votes']).execute();
        assert.deepEqual(
          counted.map((r) => [Number(r.up_votes), Number(r.down_votes)]),
          [
            [0, 0],
            [0, 0],
          ],
          'existing threads start at zero',
        );
        await mdb.db.updateTable('threads').set({ up_votes: 3 }).execute();

        await step('up', '003_replies_and_voters');
        await step('up', '004_idempotency_keys');
        // Populate what 003 and 004 added: a reply, per-voter votes, an idempotency key.
        const parent = await mdb.db.selectFrom('threads').select('id').orderBy('id').executeTakeFirstOrThrow();
        await mdb.db
          .insertInto('threads')
          .values({ project_id: project, thread_type: 'comment', message: 'reply', created_at: now, parent_thread_id: parent.id })
          .execute();
        await mdb.db
          .insertInto('votes')
          .values([
            { thread_id: parent.id, voter_id: 'ann', direction: 'up', voted_at: now },
            { thread_id: parent.id, voter_id: 'bo', direction: 'down', voted_at: now },
          ])
          .execute();
        await mdb.db.insertInto('idempotency_keys').values({ key: 'k', request_hash: 'h', project_id: project, created_at: now }).execute();

        await step('down', '004_idempotency_keys');
        assert.ok(!(await tables(mdb)).includes('idempotency_keys'));
        await step('down', '003_replies_and_voters');
        assert.deepEqual(await tables(mdb), ['projects', 'tags', 'threads']);
        assert.deepEqual(await columns(mdb, 'threads'), ['created_at', 'down_votes', 'id', 'message', 'project_id', 'thread_type', 'up_votes']);
        assert.equal((await mdb.db.selectFrom('threads').select('id').execute()).length, 3, "threads survive; only replies' links go");
        await step('down', '002_vote_counts');
        assert.deepEqual(await columns(mdb, 'threads'), ['created_at', 'id', 'message', 'project_id', 'thread_type']);
        await step('down', '001_init');
        assert.deepEqual(await tables(mdb), []);
        if (mdb.schema) {
          const types = await sql<{
            n: number;
          }>`select count(*)::int as n from pg_type t join pg_namespace n on n.oid = t.typnamespace where t.typname = 'thread_type' and n.nspname = ${mdb.schema}`.execute(
            mdb.db,
          );
          assert.equal(types.rows[0].n, 0, 'the enum type is dropped too, after the table using it');
        }
        // And up again from nothing.
        assert.equal((await migrator.migrateToLatest()).error, undefined);
        assert.deepEqual(await tables(mdb), ['idempotency_keys', 'projects', 'tags', 'threads', 'votes']);
      } finally {
        await mdb.close();
        await drop();
      }
    });
  });
}
