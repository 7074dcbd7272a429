// writeTransaction's group commit on both engines: callers of one moment share a commit, fail alone, hear after it.
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import SQLite from 'better-sqlite3';
import { isDependencyFailure } from '../kernel/errors.ts';
import { createTestDatabase, gate, tempDir } from '../kernel/testing/index.ts';
import { openModuleDatabase, type ModuleDatabase } from './database.ts';
import { violations } from './transaction-guard.ts';
import { drainWrites, groupedWrite, nestedWork, writeBatching, writeTransaction } from './write-transaction.ts';

const log = { warn: () => undefined };
/** Where a file descriptor points, or '' once it has closed. */
const readlinkOr = (path: string) => {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
};

interface Engine {
  name: string;
  gate(): Promise<{ skip?: string }>;
  open(): Promise<{ mdb: ModuleDatabase; drop(): Promise<void> }>;
  /** Rows of t as another connection sees them: what is committed. */
  committed(mdb: ModuleDatabase): Promise<number[]>;
  /** Makes the database unavailable under the batch that is running (a failover, a closed file). */
  kill(mdb: ModuleDatabase, trx: Kysely<any>): Promise<void>;
}

const ENGINES: Engine[] = [
  {
    name: 'SQLite',
    gate: async () => ({}),
    async open() {
      const dir = tempDir();
      const mdb = await openModuleDatabase('wt', { dataDir: dir, log });
      const outside = new SQLite(`${dir}/wt.sqlite`, { readonly: true });
      outsiders.set(mdb, outside);
      return {
        mdb,
        async drop() {
          outside.close();
          // The killing test closed the connection already: close the rest (the checkpointer, the reader).
          await mdb.close().catch(() => undefined);
        },
      };
    },
    async committed(mdb) {
      return (outsiders.get(mdb)!.prepare('select id from t order by id').all() as { id: number }[]).map((r) => r.id);
    },
    async kill(mdb) {
      // The file's connection closed under the batch: every statement after this one fails.
      mdb.sqlite!.close();
    },
  },
  {
    name: 'Postgres',
    gate: () => gate('postgres'),
    async open() {
      const database = await createTestDatabase('write_transaction');
      const mdb = await openModuleDatabase('wt', { dataDir: '', databaseUrl: database.url, log });
      const outside = new pg.Client({ connectionString: database.url });
      await outside.connect();
      await outside.query('set search_path = wt');
      pgOutsiders.set(mdb, outside);
      return {
        mdb,
        async drop() {
          await outside.end();
          await mdb.close().catch(() => undefined);
          await database.drop();
        },
      };
    },
    async committed(mdb) {
      return (await pgOutsiders.get(mdb)!.query('select id from t order by id')).rows.map((r: { id: number }) => r.id);
    },
    async kill(mdb, trx) {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      await pgOutsiders.get(mdb)!.query('select pg_terminate_backend($1)', [rows[0].pid]);
      await new Promise((r) => setTimeout(r, 100));
    },
  },
];
const outsiders = new Map<ModuleDatabase, SQLite.Database>();
const pgOutsiders = new Map<ModuleDatabase, pg.Client>();

for (const engine of ENGINES) {
  describe(`writeTransaction, group-committed (${engine.name})`, await engine.gate(), () => {
    let mdb: ModuleDatabase;
    let drop: () => Promise<void>;
    const batchingWas = writeBatching.postgres;
    before(async () => {
      // Postgres batches only when configured (see writeTransaction): held here to the same behaviour as SQLite.
      writeBatching.postgres = true;
      ({ mdb, drop } = await engine.open());
      await mdb.db.schema
        .createTable('t')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .execute();
    });
    after(async () => {
      writeBatching.postgres = batchingWas;
      await drop();
    });
    const reset = () => mdb.db.deleteFrom('t').execute();

    it('calls of one moment share one transaction: nothing is committed until the last has run, and each hears only after the commit', async () => {
      await reset();
      const seenInside: number[][] = [];
      const seenOnAnswer: number[][] = [];
      const txids = new Set<string>();
      const ids = [1, 2, 3, 4, 5];
      await Promise.all(
        ids.map((id) =>
          writeTransaction(mdb.db, async (trx) => {
            await trx.insertInto('t').values({ id }).execute();
            if (mdb.dialect === 'postgres') txids.add(String((await sql<{ x: string }>`select txid_current()::text as x`.execute(trx)).rows[0].x));
            seenInside.push(await engine.committed(mdb));
            return id;
          }).then(async (answer) => {
            assert.equal(answer, id);
            seenOnAnswer.push(await engine.committed(mdb));
          }),
        ),
      );
      // The premise: every call ran before any was committed, so they were one transaction.
      assert.deepEqual(seenInside, [[], [], [], [], []], 'no call saw another committed while the batch ran');
      if (mdb.dialect === 'postgres') assert.equal(txids.size, 1, 'one transaction id');
      for (const seen of seenOnAnswer) assert.deepEqual(seen, ids, 'answered only once all of it was committed');
    });

    it('a caller whose fn throws after writing gets its error alone, and leaves nothing of its own; the others commit', async () => {
      await reset();
      const runs = new Map<number, number>();
      const results = await Promise.allSettled(
        [1, 2, 3, 4, 5].map((id) =>
          writeTransaction(mdb.db, async (trx) => {
            runs.set(id, (runs.get(id) ?? 0) + 1);
            await trx.insertInto('t').values({ id }).execute();
            if (id === 3) throw new Error('caller 3 refuses');
            return id;
          }),
        ),
      );
      assert.deepEqual(
        results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
        [1, 2, 'caller 3 refuses', 4, 5],
      );
      assert.deepEqual(await engine.committed(mdb), [1, 2, 4, 5]);
      // SQLite runs a batch without savepoints first: caller 3's row was mixed into the batch, which was rolled back
      // and run again without caller 3 (its answer is its error), each caller in a savepoint. Postgres runs each in a
      // savepoint from the start.
      assert.deepEqual([...runs.values()], mdb.dialect === 'sqlite' ? [2, 2, 1, 1, 1] : [1, 1, 1, 1, 1]);
    });

    it('a statement the database refuses (a duplicate key) fails only its caller, and the transaction goes on without running anyone again', async () => {
      await reset();
      await writeTransaction(mdb.db, (trx) => trx.insertInto('t').values({ id: 10 }).execute());
      let runs = 0;
      const results = await Promise.allSettled(
        [11, 10, 12].map((id) =>
          writeTransaction(mdb.db, (trx) => {
            runs++;
            return trx.insertInto('t').values({ id }).execute();
          }),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.deepEqual(await engine.committed(mdb), [10, 11, 12]);
      assert.equal(runs, 3, 'a failed statement changed nothing: no caller ran twice');
    });

    it('a caller whose failure ended the transaction (SQLite rolls back on an I/O error) leaves no caller autocommitted: each answered ok is committed, each refused is not', async () => {
      await reset();
      const ids = [51, 52, 53, 54];
      const results = await Promise.allSettled(
        ids.map((id) =>
          writeTransaction(mdb.db, async (trx) => {
            // What SQLite does to the transaction on an I/O error or a full disk, done by the caller itself.
            if (id === 52 && mdb.dialect === 'sqlite') {
              await sql`rollback`.execute(trx);
              throw new Error('disk I/O error');
            }
            await trx.insertInto('t').values({ id }).execute();
            return id;
          }),
        ),
      );
      const committed = await engine.committed(mdb);
      // SQLite: 52 has its error, and the batch ran again without it.
      if (mdb.dialect === 'sqlite') assert.deepEqual(committed, [51, 53, 54]);
      assert.deepEqual(
        ids.filter((_, i) => results[i].status === 'fulfilled'),
        committed,
        'answered ok ⇔ committed',
      );
    });

    it('nested work that fails leaves nothing of its own, and its caller and the other callers go on and commit', async () => {
      await reset();
      const runs = new Map<number, number>();
      const nested: unknown[] = [];
      const results = await Promise.all(
        [61, 62, 63, 64].map((id) =>
          writeTransaction(mdb.db, async (trx) => {
            runs.set(id, (runs.get(id) ?? 0) + 1);
            await trx.insertInto('t').values({ id }).execute();
            // 62's nested work fails after writing, 63's before: neither may leave a row.
            if (id === 62 || id === 63) {
              const outcome = await nestedWork(trx, async () => {
                if (id === 62)
                  await trx
                    .insertInto('t')
                    .values({ id: 100 + id })
                    .execute();
                throw new Error(`nested ${id} refuses`);
              });
              nested.push(outcome.ok ? 'ok' : (outcome.error as Error).message);
            }
            return id;
          }),
        ),
      );
      assert.deepEqual(results, [61, 62, 63, 64]);
      assert.deepEqual(await engine.committed(mdb), [61, 62, 63, 64]);
      // SQLite: 62's failure spoiled the batch without savepoints, which ran again with them (61 and 62 twice).
      assert.deepEqual([...runs.values()], mdb.dialect === 'sqlite' ? [2, 2, 1, 1] : [1, 1, 1, 1]);
      assert.deepEqual(nested.slice(-2), ['nested 62 refuses', 'nested 63 refuses']);
    });

    it('grouped writes join the batch of the moment', async () => {
      await reset();
      const seen: number[][] = [];
      await Promise.all([
        writeTransaction(mdb.db, (trx) => trx.insertInto('t').values({ id: 21 }).execute()),
        groupedWrite(mdb.db, async (trx) => {
          await trx.insertInto('t').values({ id: 22 }).execute();
          seen.push(await engine.committed(mdb));
        }),
      ]);
      assert.deepEqual(seen, [[]], 'the grouped write ran inside the same uncommitted transaction');
      assert.deepEqual(await engine.committed(mdb), [21, 22]);
      // Alone, a grouped write commits as well (without an fsync on SQLite, the setting restored after).
      await groupedWrite(mdb.db, (trx) => trx.insertInto('t').values({ id: 23 }).execute());
      assert.deepEqual(await engine.committed(mdb), [21, 22, 23]);
      if (mdb.sqlite) assert.equal((mdb.sqlite.prepare('pragma synchronous').get() as { synchronous: number }).synchronous, 2, 'FULL again');
    });

    it('a writeTransaction inside another is refused at once, where the transaction guard is on (it would wait for its own batch)', {
      skip: process.env.CANTONS_TRANSACTION_GUARD === '1' ? undefined : 'needs CANTONS_TRANSACTION_GUARD=1 (npm test sets it)',
    }, async () => {
      await reset();
      const reported: string[] = [];
      const report = violations.report;
      violations.report = (err) => reported.push(err.message);
      try {
        await assert.rejects(
          writeTransaction(mdb.db, async (trx) => {
            await trx.insertInto('t').values({ id: 41 }).execute();
            await writeTransaction(mdb.db, (inner) => inner.insertInto('t').values({ id: 42 }).execute());
          }),
          /writeTransaction inside a database transaction/,
        );
      } finally {
        violations.report = report;
      }
      assert.equal(reported.length, 1, 'reported as a bug');
      assert.deepEqual(await engine.committed(mdb), []);
    });

    it('closing the database waits for the writes already queued: each is committed and answered', async () => {
      const { mdb: own, drop: dropOwn } = await engine.open();
      try {
        await own.db.schema
          .createTable('t')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .execute();
        const writes = [51, 52, 53].map((id) =>
          writeTransaction(own.db, (trx) =>
            trx
              .insertInto('t')
              .values({ id })
              .execute()
              .then(() => id),
          ),
        );
        await own.close();
        assert.deepEqual(await Promise.all(writes), [51, 52, 53]);
        assert.deepEqual(await engine.committed(own), [51, 52, 53]);
      } finally {
        await dropOwn();
      }
    });

    it('a batch keeps its savepoints in memory: no temp file is opened, however much the callers write', { skip: engine.name !== 'SQLite' }, async () => {
      await reset();
      await mdb.db.schema.createTable('big').addColumn('n', 'integer').addColumn('pad', 'blob').execute();
      // SQLite copies each page a savepoint's caller changes into the statement journal, which by default spills to
      // an unlinked temp file (etilqs_*) beyond 64 KiB: a file created, written and dropped on every busy batch.
      const tempFiles = () => readdirSync('/proc/self/fd').filter((fd) => /etilqs_/.test(readlinkOr(`/proc/self/fd/${fd}`)));
      let seen: string[] = [];
      const ids = Array.from({ length: 40 }, (_, i) => 100 + i);
      await Promise.all(
        ids.map((id) =>
          writeTransaction(mdb.db, async (trx) => {
            // Each caller touches every page of a table that outgrows the spill threshold many times over.
            await sql`insert into big (n, pad) values (${id}, randomblob(3000))`.execute(trx);
            await sql`update big set n = n + 1`.execute(trx);
            await trx.insertInto('t').values({ id }).execute();
            if (id === ids.at(-1)) seen = tempFiles();
            return id;
          }),
        ),
      );
      assert.deepEqual(await engine.committed(mdb), ids, 'the premise: one batch of all of them committed');
      assert.deepEqual(seen, [], 'no temp file open while the batch ran');
    });

    // Last: it takes the database away.
    it('a database that goes away under the batch fails every caller with a dependency failure (a 503), and keeps nothing of the batch', async () => {
      await reset();
      const results = await Promise.allSettled(
        [31, 32, 33].map((id) =>
          writeTransaction(mdb.db, async (trx) => {
            await trx.insertInto('t').values({ id }).execute();
            // The last caller: what fails is then its release and the COMMIT, after every fn succeeded.
            if (id === 33) await engine.kill(mdb, trx);
            return id;
          }),
        ),
      );
      // Callers 31 and 32 ran to the end before the kill: they too must hear the failure, their commit never happened.
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'rejected', 'rejected'],
      );
      for (const r of results)
        assert.ok(isDependencyFailure((r as PromiseRejectedResult).reason), `a dependency failure: ${(r as PromiseRejectedResult).reason}`);
      assert.deepEqual(await engine.committed(mdb), [], 'nothing of the batch');
      await drainWrites(mdb.db);
    });
  });
}
