// A transaction that holds the write lock from its first statement, on either SQL dialect.
import { sql, type Kysely } from 'kysely';
import { dialectOf } from './database.ts';
import { inSpan } from './trace-hooks.ts';
import { inTransaction } from './transaction-guard.ts';

/**
 * Runs `fn` in a transaction that holds the write lock from its first statement. SQLite: BEGIN IMMEDIATE,
 * so a read-then-write transaction never fails with SQLITE_BUSY_SNAPSHOT when another process (a split
 * role, a relay) committed meanwhile; busy_timeout makes it wait instead. Postgres: a plain transaction,
 * the caller locks the rows it reads with FOR UPDATE.
 */
export async function writeTransaction<DB, T>(db: Kysely<DB>, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  // Postgres: db.transaction() is spanned where the database opened (db/trace-hooks.ts); SQLite's BEGIN IMMEDIATE here.
  if (dialectOf(db) === 'postgres') return db.transaction().execute(fn);
  return inSpan('db transaction', () => writeImmediate(db, fn));
}

function writeImmediate<DB, T>(db: Kysely<DB>, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await inTransaction(() => fn(conn));
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
