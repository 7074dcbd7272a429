// Hot reads (db/read.ts) and the WAL checkpointer (db/checkpointer.ts) on a module database as the app opens it.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, gate, tempDir, waitFor } from '../kernel/testing/index.ts';
import { openModuleDatabase, type ModuleDatabase } from './database.ts';
import { writeTransaction } from './write-transaction.ts';

const log = { warn: () => undefined };

/** A `t` table, and a write transaction holding one uncommitted row until `release` is called. */
async function openWriteInFlight(mdb: ModuleDatabase) {
  await sql`create table t (id integer primary key, v text not null)`.execute(mdb.db);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let inserted!: () => void;
  const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
  const write = writeTransaction(mdb.db, async (trx) => {
    await sql`insert into t (id, v) values (1, 'one')`.execute(trx);
    inserted();
    await held;
  });
  await insertedYet;
  return { release, write };
}

const engines = [
  { name: 'SQLite file', gate: {}, open: async () => openModuleDatabase('reads', { dataDir: tempDir('cantons-read-'), log }) },
  { name: 'SQLite in memory', gate: {}, open: async () => openModuleDatabase('reads', { dataDir: ':memory:', log }) },
  {
    name: 'Postgres',
    gate: await gate('postgres'),
    open: async () => {
      const database = await createTestDatabase('reads');
      after(database.drop);
      return openModuleDatabase('reads', { dataDir: ':memory:', databaseUrl: database.url, log });
    },
  },
];

for (const engine of engines) {
  describe(`reads as SQL text, ${engine.name}`, engine.gate, () => {
    it('sees what is committed and nothing of a transaction still open; ? markers on either dialect', async () => {
      const mdb = await engine.open();
      try {
        const { release, write } = await openWriteInFlight(mdb);
        const during = mdb.read.first('select "v" from t where "id" = ?', [1]);
        // On SQLite in memory the read waits for the connection the transaction holds; elsewhere it answers at once.
        if (engine.name !== 'SQLite in memory') assert.equal(await during, undefined, 'an uncommitted row is not read');
        release();
        await write;
        if (engine.name === 'SQLite in memory') assert.deepEqual(await during, { v: 'one' }, 'read after the commit it waited for');
        assert.deepEqual(await mdb.read.first('select "v" from t where "id" = ?', [1]), { v: 'one' });
        assert.deepEqual(await mdb.read.all('select "id", "v" from t where "id" in (?, ?) order by "id"', [1, 2]), [{ id: 1, v: 'one' }]);
        assert.equal(await mdb.read.first('select "v" from t where "id" = ?', [2]), undefined);
      } finally {
        await mdb.close();
      }
    });
  });
}

describe('the WAL checkpointer', () => {
  it('copies committed pages into the database file in the background, without a commit reaching the autocheckpoint', async () => {
    const dir = tempDir('cantons-checkpoint-');
    const mdb = await openModuleDatabase('wal', { dataDir: dir, log });
    try {
      const file = join(dir, 'wal.sqlite');
      await sql`create table t (id integer primary key, v text not null)`.execute(mdb.db);
      const before = statSync(file).size;
      // ≈ 2 MB in ≈ 500 pages: a quarter of SQLite's default autocheckpoint and a twentieth of ours.
      await writeTransaction(mdb.db, async (trx) => {
        for (let i = 0; i < 500; i++) await sql`insert into t (id, v) values (${i}, ${'x'.repeat(4000)})`.execute(trx);
      });
      await waitFor('the pages in the database file', () => statSync(file).size > before + 1_000_000);
    } finally {
      await mdb.close();
    }
  });
});
