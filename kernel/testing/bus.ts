// Test support for the bus tests: migrated module databases (SQLite or a fresh Postgres database), Redis checks, waiting.
import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Migration } from 'kysely';
import { pino } from 'pino';
import { openModuleDatabase, type ModuleDatabase } from '../../db/database.ts';
import { migrateUp } from '../../db/migrator.ts';
import { busMigrations } from '../bus/migrations.ts';
import { z } from 'zod';
import type { BusEvent, EventHandler } from '../bus/types.ts';
import type { Topic } from '../contract.ts';
import { createTestDatabase, tempDir } from './services.ts';

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A topic of any name and any payload, for the bus's own tests (a module defines its topics with defineTopic). */
export const topicNamed = (name: string): Topic => ({ name, payload: z.unknown() });
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
      const mdb = await openModuleDatabase(module, { dataDir: dir, log: silentLog });
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

// Application order, process-wide: heap order on Postgres says nothing about insertion order.
let appliedSeq = 0;

/** A handler writing one `applied` row per call, in the consumer's transaction. */
export function recordingHandler(consumer: string, before?: (event: BusEvent) => void | Promise<void>): EventHandler {
  return async (event, trx: Transaction<any>) => {
    await before?.(event);
    await trx
      .insertInto('applied')
      .values({ n: ++appliedSeq, consumer, event_id: event.id, payload: JSON.stringify(event.payload) })
      .execute();
  };
}

export async function appliedRows(mdb: ModuleDatabase, consumer?: string): Promise<Array<{ consumer: string; event_id: string; payload: string }>> {
  let q = mdb.db.selectFrom('applied').select(['consumer', 'event_id', 'payload']).orderBy('n');
  if (consumer) q = q.where('consumer', '=', consumer);
  return q.execute() as Promise<any>;
}
