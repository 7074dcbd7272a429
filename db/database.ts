// One Kysely database per module: a SQLite file under DATA_DIR, or a Postgres schema when DATABASE_URL is set.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../kernel/logger.ts';
import type { Dialect } from '../kernel/module.ts';
import { redactUrl } from '../kernel/config.ts';
import { sleep } from '../kernel/http-transport.ts';
import { withStatementCache, type CachedSqlite } from './statement-cache.ts';

// COUNT(*) and BIGSERIAL come back as strings by default; every count we keep fits a double.
pg.types.setTypeParser(20, (v) => Number(v));

export interface ModuleDatabase {
  db: Kysely<any>;
  dialect: Dialect;
  /** SQLite only: the connection under `db`, for a hot path that cannot afford a query builder. */
  sqlite?: CachedSqlite;
  /** The Postgres schema holding this module's tables (undefined on SQLite). */
  schema?: string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Directory for SQLite files; `:memory:` keeps each module's database in memory (tests). */
  dataDir: string;
  databaseUrl?: string;
  connect: { attempts: number; baseMs: number; maxMs: number };
  log: Logger;
  poolSize?: number;
}

export const schemaName = (module: string) => module.replace(/-/g, '_');

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
  const cached = withStatementCache(database);
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: cached }) });
  return {
    db,
    dialect: 'sqlite',
    sqlite: cached,
    ping: async () => database.open,
    close: () => db.destroy(),
  };
}

async function openPostgres(module: string, url: string, opts: DatabaseOptions): Promise<ModuleDatabase> {
  const schema = schemaName(module);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 5000,
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', (err) => opts.log.warn({ err, module }, 'postgres idle client error'));
  const { attempts, baseMs, maxMs } = opts.connect;
  for (let attempt = 1; ; attempt++) {
    try {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      opts.log.info({ module, schema, attempt }, 'postgres connected');
      break;
    } catch (err) {
      if (attempt >= attempts) {
        await pool.end();
        throw new Error(`cannot connect to ${redactUrl(url)} for module ${module} after ${attempt} attempts: ${(err as Error).message}`);
      }
      // e-based growth with jitter, as the original's 1, 2, 7, 20, 54 s, capped at DB_CONNECT_MAX_MS.
      const delay = Math.round(Math.min(maxMs, baseMs * Math.E ** (attempt - 1)) * (0.5 + Math.random() / 2));
      opts.log.warn({ module, attempt, attempts, delayMs: delay, err: (err as Error).message }, 'postgres connect failed; retrying');
      await sleep(delay);
    }
  }
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    schema,
    ping: async () => {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}

