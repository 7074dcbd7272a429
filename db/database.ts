// One Kysely database per module: a SQLite file under DATA_DIR, or a Postgres schema when DATABASE_URL is set.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type pg from 'pg';
import { postgresReader, sqliteReader, type Reader } from './read.ts';
import { tunePgClient } from './pg-client.ts';
import { withStatementCache, type CachedSqlite } from './statement-cache.ts';
import { traceTransactions } from './trace-hooks.ts';
import type { Dialect } from './dialect.ts';
import { markTransactions } from './transaction-guard.ts';

export { dialectOf, type Dialect } from './dialect.ts';

/**
 * What a database waits for before it closes, by its handle: the writes queued in db/write-transaction.ts (which
 * imports this file, so it registers here rather than being imported).
 */
export const beforeClose = new WeakMap<Kysely<any>, () => Promise<void>>();

/**
 * What db/write-transaction.ts reads of a SQLite write connection to run a batch without savepoints (see runBatch
 * there): the rows its statements have changed so far, and whether a transaction is open.
 */
export interface WriteProbe {
  changes(): number;
  inTransaction(): boolean;
}
export const writeProbes = new WeakMap<Kysely<any>, WriteProbe>();

/** What db/ needs of a logger (pino's satisfies it); db/ imports nothing from the layers above it. */
export interface DbLogger {
  warn(obj: object, msg: string): void;
}

let postgres: typeof pg | undefined;
/** pg, loaded on first use: a process on SQLite never pays its start-up. */
function loadPg(): typeof pg {
  if (postgres) return postgres;
  postgres = createRequire(import.meta.url)('pg') as typeof pg;
  // COUNT(*) and BIGSERIAL come back as strings by default; every count we keep fits a double.
  postgres.types.setTypeParser(20, (v) => Number(v));
  return postgres;
}

export interface ModuleDatabase {
  /**
   * Untyped here, where no module's tables are known; a role gets it as `Kysely<ModuleDB>` (its module's db.ts), the
   * bus's own code reads it as `Kysely<BusTables>`. Tests and migrations use it as it is.
   */
  db: Kysely<any>;
  dialect: Dialect;
  /** SQLite only: the connection under `db`, for a hot path that cannot afford a query builder. */
  sqlite?: CachedSqlite;
  /** Hot reads as SQL text (db/read.ts): on SQLite, a read-only connection of their own. */
  read: Reader;
  /** The Postgres schema holding this module's tables (undefined on SQLite). */
  schema?: string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Directory for SQLite files; `:memory:` keeps each module's database in memory (tests). */
  dataDir: string;
  databaseUrl?: string;
  log: DbLogger;
  poolSize?: number;
}

export const schemaName = (module: string) => module.replace(/-/g, '_');

/** One attempt: a Postgres that does not answer throws (the caller decides whether and when to retry). */
export async function openModuleDatabase(module: string, opts: DatabaseOptions): Promise<ModuleDatabase> {
  return opts.databaseUrl ? openPostgres(module, opts.databaseUrl, opts) : openSqlite(module, opts.dataDir);
}

function openSqlite(module: string, dataDir: string): ModuleDatabase {
  let file = ':memory:';
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true });
    file = join(dataDir, `${module}.sqlite`);
  }
  const database = new SQLite(file);
  // One writer, WAL so readers never block it, FULL so an acknowledged commit survives a crash.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  // Checkpoint every ≈ 40 MB of WAL rather than SQLite's 4 MB: a page rewritten by many commits in
  // between is copied back once, and fewer checkpoints fsync the database file. Measured on the
  // events write path: ≈ 30 → 24 µs of SQLite time per event (docs/benchmarks.md).
  database.pragma('wal_autocheckpoint = 10000');
  // Savepoints (a batch run again guarded, db/write-transaction.ts; a consumer's run of events, kernel/bus/consumer.ts)
  // make SQLite copy every page changed under them into the statement journal, which by default spills beyond 64 KiB
  // into a temp file (/var/tmp/etilqs_*) opened, written and dropped in each busy batch: 11 of a proposal's 17 pwrite
  // calls when every caller had a savepoint. In memory,
  // a proposal cost ≈ 10 % less CPU (docs/benchmarks.md, issue 24, fourth pass). This connection's temp b-trees and sorts
  // stay in memory too, which its queries (indexed, with a LIMIT or a key) keep small.
  database.pragma('temp_store = memory');
  const cached = withStatementCache(database);
  const db = traceTransactions(markTransactions(new Kysely<any>({ dialect: new SqliteDialect({ database: cached }) })));
  const totalChanges = database.prepare('select total_changes()').pluck();
  writeProbes.set(db, { changes: () => totalChanges.get() as number, inTransaction: () => database.inTransaction });
  // Opened after the write connection, which made the file and set WAL.
  const read = sqliteReader(file, db);
  return {
    db,
    dialect: 'sqlite',
    sqlite: cached,
    read,
    ping: async () => database.open,
    close: async () => {
      await beforeClose.get(db)?.();
      read.close();
      await db.destroy();
    },
  };
}

async function openPostgres(module: string, url: string, opts: DatabaseOptions): Promise<ModuleDatabase> {
  const schema = schemaName(module);
  const pool = new (loadPg().Pool)({
    connectionString: url,
    max: opts.poolSize ?? 10,
    // With tunePgClient: a statement held back goes out with the next one (db/pg-client.ts).
    pipeline: true,
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 5000,
  });
  // A client emits 'error' whenever its connection dies (a failover, pg_terminate_backend), idle in the pool or
  // checked out by a transaction between two statements; the pool listens only while it is idle, and an 'error'
  // without a listener ends the process. The statement in flight fails on its own (→ 503), and the pool drops a
  // client that is no longer queryable when it comes back, so logging is all that is left to do here: one line
  // per 5 s (a failover kills every client at once, each reporting twice), the message and code only (pg-pool
  // hangs the client, connection parameters and all, on the error).
  let loggedAt = 0;
  let suppressed = 0;
  const onError = (err: Error & { code?: string }) => {
    if (Date.now() - loggedAt < 5000) return void suppressed++;
    opts.log.warn({ err: err.message, code: err.code, module, suppressed }, 'postgres client error');
    loggedAt = Date.now();
    suppressed = 0;
  };
  pool.on('connect', (client) => {
    client.on('error', onError);
    tunePgClient(client);
  });
  pool.on('error', onError);
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const db = traceTransactions(markTransactions(new Kysely<any>({ dialect: new PostgresDialect({ pool }) })));
  return {
    db,
    dialect: 'postgres',
    read: postgresReader(db),
    schema,
    ping: async () => {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: async () => {
      await beforeClose.get(db)?.();
      await db.destroy();
    },
  };
}
