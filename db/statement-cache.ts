// Prepared statements reused by SQL text, for Kysely's SQLite driver and for code that runs SQL on the connection itself
// (on Postgres, db/pg-client.ts keeps the hot texts prepared).
import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

const STATEMENT_CACHE = 500;

/** A SQLite connection whose `prepare` reuses statements by SQL text (what Kysely's driver is given). */
export interface CachedSqlite extends SqliteDatabase {
  prepare(text: string): SQLite.Statement;
}

/**
 * The database as Kysely's SQLite driver sees it, but `prepare` reuses statements by SQL text:
 * the driver prepares on every query, and parsing costs more than running a small insert. A
 * statement still being iterated (a streamed select) is busy, so that caller gets a fresh one.
 */
export function withStatementCache(database: SQLite.Database): CachedSqlite {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (stmt?.busy) return database.prepare(text);
      if (stmt)
        cache.delete(text); // re-inserted below: the Map's order is least recently used first
      else {
        stmt = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
}
