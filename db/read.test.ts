// Hot reads and write statements as SQL text (db/read.ts) on a module database as the app opens it, on each engine.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, gate, tempDir } from '../kernel/testing/index.ts';
import { openModuleDatabase, type ModuleDatabase } from './database.ts';
import { markers, sqlText, textPerCount } from './read.ts';
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

    it('write statements as SQL text run in the write transaction: committed with it, rolled back with it', async () => {
      const mdb = await engine.open();
      try {
        await sql`create table t (id integer primary key, v text not null)`.execute(mdb.db);
        const text = sqlText(mdb.db, mdb.sqlite);
        const insert = textPerCount((n) => `insert into t (id, v) values ${markers(n, '(?, ?)')}`);
        await assert.rejects(
          writeTransaction(mdb.db, async (trx) => {
            assert.equal(await text.run(trx, insert(2), [1, 'one', 2, 'two']), 2);
            assert.deepEqual(await text.all(trx, 'select "id" from t where "id" > ? order by "id"', [0]), [{ id: 1 }, { id: 2 }], 'seen inside');
            throw new Error('changed its mind');
          }),
          /changed its mind/,
        );
        assert.deepEqual(await mdb.read.all('select "id" from t'), [], 'rolled back with the transaction');
        await writeTransaction(mdb.db, (trx) => text.run(trx, insert(1), [3, 'three']));
        assert.deepEqual(await mdb.read.all('select "id", "v" from t'), [{ id: 3, v: 'three' }]);
      } finally {
        await mdb.close();
      }
    });
  });
}
