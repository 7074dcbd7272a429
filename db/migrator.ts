// Per-module migrations (up and down) with Kysely's Migrator, each module keeping its own migration table.
import { Migrator, NO_MIGRATIONS, type Migration, type MigrationResultSet } from 'kysely';
import type { ModuleDatabase } from './database.ts';

export interface MigrationStatus {
  name: string;
  executedAt?: Date;
}

/** The module's Migrator, with the migration tables the app uses (tests step through it one migration at a time). */
export function migratorFor(mdb: ModuleDatabase, migrations: Record<string, Migration>): Migrator {
  return new Migrator({
    db: mdb.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'migrations',
    migrationLockTableName: 'migrations_lock',
    // The kernel adds migrations of its own (000_kernel_…) to databases whose module migrations ran already.
    allowUnorderedMigrations: true,
    // Pinned so each Postgres schema gets its own table (introspection would see other schemas' tables).
    ...(mdb.schema ? { migrationTableSchema: mdb.schema } : {}),
  });
}

function check(result: MigrationResultSet, what: string): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`${what} failed${failed ? ` at ${failed}` : ''}: ${(result.error as Error).message ?? result.error}`);
  }
  return (result.results ?? []).map((r) => r.migrationName);
}

/** Applies every pending migration; returns the names applied. */
export async function migrateUp(mdb: ModuleDatabase, migrations: Record<string, Migration>): Promise<string[]> {
  return check(await migratorFor(mdb, migrations).migrateToLatest(), 'migrate up');
}

/** Reverts every applied migration (the original's `db_mgmt.py drop`); returns the names reverted. */
export async function migrateDown(mdb: ModuleDatabase, migrations: Record<string, Migration>): Promise<string[]> {
  return check(await migratorFor(mdb, migrations).migrateTo(NO_MIGRATIONS), 'migrate down');
}

export async function migrationStatus(mdb: ModuleDatabase, migrations: Record<string, Migration>): Promise<MigrationStatus[]> {
  const infos = await migratorFor(mdb, migrations).getMigrations();
  return infos.map((m) => ({ name: m.name, executedAt: m.executedAt }));
}
