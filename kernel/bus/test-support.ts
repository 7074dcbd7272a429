// Helpers for the bus tests: migrated module databases (SQLite or a fresh Postgres database), Redis checks, waiting.
import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Migration } from 'kysely/migration';
import { pino } from 'pino';
import { openModuleDatabase, type ModuleDatabase } from '../../db/database.ts';
import { migrateUp } from '../../db/migrator.ts';
import { createTestDatabase, deleteRedisKeys, REDIS_URL, serviceAvailable, tempDir } from '../test-services.ts';
import { busMigrations } from './migrations.ts';
import type { BusEvent, EventHandler } from './types.ts';

export { REDIS_URL };
export const deleteKeys = (prefix: string) => deleteRedisKeys(prefix);
export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
export const randomId = () => randomBytes(5).toString('hex');

// The test module's own table: no key on purpose, so a second apply of one event shows up as a second row.
const testTable: Migration = {
  async up(db) {
    await db.schema
      .createTable('applied')
      .addColumn('n', 'integer')
      .addColumn('consumer', 'text')
      .addColumn('event_id', 'text')
      .addColumn('payload', 'text')
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('applied').execute();
  },
};
export const testMigrations = { ...busMigrations, '001_test': testTable };

/** Opens migrated module databases; opening the same module twice gives two connections, as two processes would have. */
export interface Databases {
  kind: 'sqlite' | 'postgres';
  open(module: string): Promise<ModuleDatabase>;
  closeAll(): Promise<void>;
  dispose(): Promise<void>;
}

export function sqliteDatabases(): Databases {
  const dir = tempDir('cantons-bus-');
  const open: ModuleDatabase[] = [];
  const closeAll = async () => {
    await Promise.all(open.splice(0).map((m) => m.close()));
  };
  return {
    kind: 'sqlite',
    async open(module) {
      const mdb = await openModuleDatabase(module, { dataDir: dir, connect: { attempts: 1, baseMs: 10, maxMs: 10 }, log: silentLog });
      await migrateUp(mdb, testMigrations);
      open.push(mdb);
      return mdb;
    },
    closeAll,
    dispose: closeAll,
  };
}

/** A fresh database `cantons_bus_<random>` for the run; each module is a schema in it. */
export async function postgresDatabases(): Promise<Databases> {
  const database = await createTestDatabase('cantons_bus');
  const open: ModuleDatabase[] = [];
  const closeAll = async () => {
    await Promise.all(open.splice(0).map((m) => m.close()));
  };
  return {
    kind: 'postgres',
    async open(module) {
      const mdb = await openModuleDatabase(module, {
        dataDir: ':memory:',
        databaseUrl: database.url,
        connect: { attempts: 1, baseMs: 10, maxMs: 10 },
        log: silentLog,
        poolSize: 4,
      });
      await migrateUp(mdb, testMigrations);
      open.push(mdb);
      return mdb;
    },
    closeAll,
    async dispose() {
      await closeAll();
      await database.drop();
    },
  };
}

export const postgresReachable = () => serviceAvailable('postgres');
export const redisReachable = () => serviceAvailable('redis');

/**
 * Gate for a suite needing a service: skip with a message when it is missing, except under CI=true,
 * where the suite becomes one failing test (fast, instead of every test timing out).
 */
export function serviceGate(ok: boolean, what: string): { skip?: string; missing?: string } {
  if (ok) return {};
  if (process.env.CI === 'true') return { missing: `${what} is not reachable; CI=true requires it` };
  return { skip: `${what} is not reachable; skipped (CI=true makes this a failure)` };
}

/** Inside a gated describe: true when the suite must not run its tests (one failing test was registered instead). */
export function failIfMissing(gate: { missing?: string }, it: (name: string, fn: () => void) => unknown): boolean {
  if (!gate.missing) return false;
  const why = gate.missing;
  it('needs its service', () => {
    throw new Error(why);
  });
  return true;
}

// Application order, process-wide: heap order on Postgres says nothing about insertion order.
let appliedSeq = 0;

/** A handler writing one `applied` row per call, in the consumer's transaction. */
export function recordingHandler(consumer: string, before?: (event: BusEvent) => void | Promise<void>): EventHandler {
  return async (event, trx: Transaction<any>) => {
    await before?.(event);
    await trx.insertInto('applied').values({ n: ++appliedSeq, consumer, event_id: event.id, payload: JSON.stringify(event.payload) }).execute();
  };
}

export async function appliedRows(mdb: ModuleDatabase, consumer?: string): Promise<Array<{ consumer: string; event_id: string; payload: string }>> {
  let q = mdb.db.selectFrom('applied').select(['consumer', 'event_id', 'payload']).orderBy('n');
  if (consumer) q = q.where('consumer', '=', consumer);
  return q.execute() as Promise<any>;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
