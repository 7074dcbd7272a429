// SQL shared by both crowdfund roles: a write transaction that locks from its first statement, and unique-violation detection.
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../../db/database.ts';

/**
 * Runs `fn` in a transaction holding the write lock from its first statement. SQLite: BEGIN
 * IMMEDIATE, so a read-then-write transaction never fails with SQLITE_BUSY_SNAPSHOT when the other
 * role's process committed meanwhile (busy_timeout makes it wait instead). Postgres: a plain
 * transaction; callers lock the rows they read with FOR UPDATE.
 */
export async function writeTransaction<T>(db: Kysely<any>, fn: (trx: Kysely<any>) => Promise<T>): Promise<T> {
  if (dialectOf(db) === 'postgres') return db.transaction().execute(fn);
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}

/** A UNIQUE or PRIMARY KEY violation, on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export const num = (v: unknown) => Number(v);
