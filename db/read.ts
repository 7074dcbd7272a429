// Hot reads — and the statements of the hottest write transactions — as SQL text on a prepared statement: for a
// one-row read or a small insert, building and compiling the query costs more than running it (decision 0019).
import SQLite from 'better-sqlite3';
import { CompiledQuery, type Kysely } from 'kysely';
import { dialectOf } from './dialect.ts';
import { prepareText } from './pg-client.ts';
import { withStatementCache, type CachedSqlite } from './statement-cache.ts';

const NONE: readonly unknown[] = [];

/** SQL text with `?` markers, the same on both dialects (the Postgres reader numbers them). */
export interface Reader {
  all<R>(text: string, params?: readonly unknown[]): Promise<R[]>;
  first<R>(text: string, params?: readonly unknown[]): Promise<R | undefined>;
  close(): void;
}

/**
 * SQLite: a second, read-only connection to the module's file. It never sees another request's open
 * transaction (WAL gives each statement the last commit), so it needs none of the write connection's lock,
 * and a reply can be built in the same turn as its read. An in-memory database has no second connection:
 * its reads go through `db` and its lock.
 */
export function sqliteReader(file: string, db: Kysely<unknown>): Reader {
  if (file === ':memory:') return kyselyReader(db, (text) => text);
  const database = new SQLite(file, { readonly: true, fileMustExist: true });
  database.pragma('busy_timeout = 5000');
  const statements = withStatementCache(database);
  return {
    // better-sqlite3 binds an array's elements to the `?` markers in order.
    all: <R>(text: string, params: readonly unknown[] = NONE) => Promise.resolve(statements.prepare(text).all(params) as R[]),
    first: <R>(text: string, params: readonly unknown[] = NONE) => Promise.resolve(statements.prepare(text).get(params) as R | undefined),
    close: () => database.close(),
  };
}

/** Postgres: through Kysely's pool, `?` numbered `$1`, `$2` … once per text. */
export function postgresReader(db: Kysely<unknown>): Reader {
  return kyselyReader(db, numberedMarkers());
}

/** `?` → `$1`, `$2` … (Postgres' markers), each text numbered once and run as a named statement (prepareText). */
function numberedMarkers(): (text: string) => string {
  const numbered = new Map<string, string>();
  return (text) => {
    let out = numbered.get(text);
    if (out === undefined) {
      let n = 0;
      out = text.replace(/\?/g, () => `$${++n}`);
      numbered.set(text, out);
      prepareText(out);
    }
    return out;
  };
}

/** SQL text with `?` markers, the same on both dialects, run in a transaction `trx` of the module's database. */
export interface SqlText<DB> {
  /** The rows of a statement (a SELECT, or a write with RETURNING). */
  all<R>(trx: Kysely<DB>, text: string, params: unknown[]): Promise<R[]>;
  /** How many rows a write changed. */
  run(trx: Kysely<DB>, text: string, params: unknown[]): Promise<number>;
}

/**
 * SQL text for the statements of a hot write transaction, run in `trx` — a transaction of `db`'s (a write
 * transaction's, a bus handler's), never `db` itself. SQLite with `sqlite` (ctx.sqlite, the one connection under
 * `db`): straight on that connection, which `trx` holds already, skipping Kysely's executor. Postgres: on `trx`,
 * the markers numbered once per text.
 */
export function sqlText<DB>(db: Kysely<DB>, sqlite?: CachedSqlite): SqlText<DB> {
  if (sqlite && dialectOf(db) === 'sqlite') {
    return {
      all: async <R>(_trx: Kysely<DB>, text: string, params: unknown[]) => sqlite.prepare(text).all(params) as R[],
      run: async (_trx, text, params) => sqlite.prepare(text).run(params).changes,
    };
  }
  const dialect = dialectOf(db) === 'postgres' ? numberedMarkers() : (text: string) => text;
  const execute = <R>(trx: Kysely<DB>, text: string, params: unknown[]) => trx.executeQuery<R>(CompiledQuery.raw(dialect(text), params));
  return {
    all: async <R>(trx: Kysely<DB>, text: string, params: unknown[]) => (await execute<R>(trx, text, params)).rows,
    run: async (trx, text, params) => Number((await execute(trx, text, params)).numAffectedRows ?? 0),
  };
}

/** A text per count (of ids, of rows), each built once: the statement caches and Postgres' numbering key on the text. */
export function textPerCount(build: (n: number) => string): (n: number) => string {
  const texts: string[] = [];
  return (n) => (texts[n] ??= build(n));
}

/** `?, ?, ?`, or `(?, ?), (?, ?)` with `each` = `(?, ?)`: an IN list's or a VALUES' `n` markers. */
export const markers = (n: number, each = '?'): string => Array(n).fill(each).join(', ');

function kyselyReader(db: Kysely<unknown>, dialect: (text: string) => string): Reader {
  const all = async <R>(text: string, params: readonly unknown[] = []) => (await db.executeQuery<R>(CompiledQuery.raw(dialect(text), [...params]))).rows;
  return {
    all,
    first: async <R>(text: string, params: readonly unknown[] = []) => (await all<R>(text, params))[0],
    close: () => undefined,
  };
}
