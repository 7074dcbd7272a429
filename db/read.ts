// Hot reads as SQL text on a prepared statement: for a one-row read, building and compiling the query costs more than running it.
import SQLite from 'better-sqlite3';
import { CompiledQuery, type Kysely } from 'kysely';
import { withStatementCache } from './statement-cache.ts';

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
  const numbered = new Map<string, string>();
  return kyselyReader(db, (text) => {
    let out = numbered.get(text);
    if (out === undefined) {
      let n = 0;
      out = text.replace(/\?/g, () => `$${++n}`);
      numbered.set(text, out);
    }
    return out;
  });
}

function kyselyReader(db: Kysely<unknown>, dialect: (text: string) => string): Reader {
  const all = async <R>(text: string, params: readonly unknown[] = []) => (await db.executeQuery<R>(CompiledQuery.raw(dialect(text), [...params]))).rows;
  return {
    all,
    first: async <R>(text: string, params: readonly unknown[] = []) => (await all<R>(text, params))[0],
    close: () => undefined,
  };
}
