// Prepared statements reused by SQL text: on SQLite for Kysely's driver and for code that runs SQL on the connection
// itself; on Postgres for the hot texts (db/read.ts), as named statements of each connection.
import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';
import type pg from 'pg';

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

/** Most texts Postgres keeps prepared per connection; texts beyond run unnamed, parsed on every call as before. */
const MAX_NAMED = 1000;
const names = new Map<string, string>();

/**
 * Postgres: `text` (with `$n` markers) runs as a named prepared statement on every connection of a pool that
 * `useNamedStatements` set up. For the hot texts only (db/read.ts registers them: one per statement and count,
 * so few): Kysely's driver sends every query unnamed, and Postgres then parses and plans it on every call —
 * about half of its CPU per proposal (docs/benchmarks.md, issue 24).
 */
export function prepareText(text: string): void {
  if (names.size < MAX_NAMED && !names.has(text)) names.set(text, `cantons_${names.size + 1}`);
}

/**
 * `client` runs each text given to prepareText as a named statement: Postgres parses and plans it at its first
 * call on this connection, later calls bind and execute it. pg keeps a name only once its parse succeeded, so a
 * text that failed (a table not made yet) is parsed again at its next call. Called for every new pool client.
 */
export function useNamedStatements(client: pg.ClientBase): void {
  const query = client.query as (...args: unknown[]) => unknown;
  client.query = function (this: pg.ClientBase, config: unknown, values?: unknown, callback?: unknown) {
    const name = typeof config === 'string' && Array.isArray(values) ? names.get(config) : undefined;
    return name === undefined ? query.call(this, config, values, callback) : query.call(this, { name, text: config, values }, callback);
  } as typeof client.query;
}
