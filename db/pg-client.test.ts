// A Postgres pool client as db/pg-client.ts tunes it: hot texts as named statements, openers sent with the next statement.
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CompiledQuery, sql } from 'kysely';
import { createTestDatabase, gate } from '../kernel/testing/index.ts';
import { openModuleDatabase, type ModuleDatabase } from './database.ts';
import { sqlText } from './read.ts';
import { writeTransaction } from './write-transaction.ts';

const log = { warn: () => undefined };

/**
 * A TCP proxy in front of Postgres that counts round trips: the times the talk turned from the client's side to the
 * server's. However either side's bytes are split or merged on the way, a client that waits for each answer turns it
 * once per statement, and one that sends two statements in one write turns it once for both.
 */
async function roundTripCounter(target: URL): Promise<{ url: string; trips(): number; close(): Promise<void> }> {
  let trips = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    let last: 'client' | 'server' | undefined;
    client.on('data', (chunk) => {
      last = 'client';
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (last === 'client') trips++;
      last = 'server';
      client.write(chunk);
    });
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: url.toString(),
    trips: () => trips,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('Postgres pool clients (db/pg-client.ts)', await gate('postgres'), () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: Awaited<ReturnType<typeof roundTripCounter>>;
  let mdb: ModuleDatabase;
  before(async () => {
    database = await createTestDatabase('pgclient');
    proxy = await roundTripCounter(new URL(database.url));
    mdb = await openModuleDatabase('pgclient', { dataDir: ':memory:', databaseUrl: proxy.url, log, poolSize: 1 });
    await sql`create table t (id integer primary key, v text not null)`.execute(mdb.db);
  });
  after(async () => {
    await mdb?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('the texts db/read.ts numbers are prepared once per connection, then bound and executed by name', async () => {
    const text = sqlText(mdb.db);
    const prepared = await writeTransaction(mdb.db, async (trx) => {
      for (let id = 1; id <= 3; id++) await text.run(trx, 'insert into t (id, v) values (?, ?)', [id, `v${id}`]);
      const { rows } = await sql<{ name: string; calls: number }>`select name, generic_plans + custom_plans as calls from pg_prepared_statements
        where statement = ${'insert into t (id, v) values ($1, $2)'}`.execute(trx);
      return rows;
    });
    assert.equal(prepared.length, 1, 'prepared once on the connection');
    assert.match(prepared[0].name, /^cantons_\d+$/);
    assert.equal(Number(prepared[0].calls), 3, 'and executed three times by name');
  });

  it('a text that failed to parse (its table not made yet) is parsed again at its next call', async () => {
    const later = 'select "v" from later where "id" = ?';
    await assert.rejects(mdb.read.first(later, [1]), /relation "later" does not exist/);
    await sql`create table later (id integer primary key, v text not null)`.execute(mdb.db);
    await sql`insert into later values (1, 'made later')`.execute(mdb.db);
    assert.deepEqual(await mdb.read.first(later, [1]), { v: 'made later' });
  });

  it("a transaction's begin and a savepoint go out with the statement after them: 3 round trips, not 5", async () => {
    const text = sqlText(mdb.db);
    const transaction = (id: number) =>
      writeTransaction(mdb.db, async (trx) => {
        await text.run(trx, 'insert into t (id, v) values (?, ?)', [id, 'publisher']);
        await trx.executeQuery(CompiledQuery.raw('savepoint bus_inline'));
        await text.run(trx, 'insert into t (id, v) values (?, ?)', [id + 1, 'handler']);
      });
    await transaction(10); // the texts prepared
    const before = proxy.trips();
    await transaction(20);
    assert.equal(proxy.trips() - before, 3, 'begin + insert, savepoint + insert, commit');
    assert.deepEqual(await mdb.read.all('select "v" from t where "id" >= ? order by "id"', [20]), [{ v: 'publisher' }, { v: 'handler' }]);
  });

  it('a statement that fails after a held savepoint: its own error; rolled back to the savepoint, the rest commits', async () => {
    await writeTransaction(mdb.db, async (trx) => {
      await sql`insert into t (id, v) values (30, 'kept')`.execute(trx);
      await trx.executeQuery(CompiledQuery.raw('savepoint bus_inline'));
      await assert.rejects(sql`insert into t (id, v) values (30, 'twice')`.execute(trx), /duplicate key/);
      await trx.executeQuery(CompiledQuery.raw('rollback to savepoint bus_inline'));
    });
    assert.deepEqual(await mdb.read.all('select "v" from t where "id" = ?', [30]), [{ v: 'kept' }]);
  });

  it('a transaction that ends before any statement (its begin still held) rolls back, and the connection works on', async () => {
    await assert.rejects(
      writeTransaction(mdb.db, async () => {
        throw new Error('changed its mind');
      }),
      /changed its mind/,
    );
    await writeTransaction(mdb.db, (trx) => sql`insert into t (id, v) values (40, 'after')`.execute(trx));
    assert.deepEqual(await mdb.read.all('select "v" from t where "id" = ?', [40]), [{ v: 'after' }]);
  });
});
