// A module's database as start-up, the CLI and bench seeding all open it: connected with retry, then migrated.
import { openModuleDatabase, type ModuleDatabase } from '../db/database.ts';
import { migrateUp } from '../db/migrator.ts';
import type { Migration } from 'kysely';
import { sleep } from './backoff.ts';
import { busMigrations } from './bus/migrations.ts';
import { configKeys, kernelConfigSchema, parseConfig, readEnv, redactUrl, type Env, type KernelConfig } from './config.ts';
import { createLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import { z } from 'zod';
import type { ModuleDefinition } from './module.ts';

type DatabaseConfig = Pick<KernelConfig, 'DATA_DIR' | 'DATABASE_URL' | 'DB_CONNECT_ATTEMPTS' | 'DB_CONNECT_BASE_MS' | 'DB_CONNECT_MAX_MS'>;

/** The kernel's bus tables (outbox, inbox, dead letters) first, then the module's own. */
export const moduleMigrations = (module: ModuleDefinition<any>): Record<string, Migration> => ({ ...busMigrations, ...module.migrations });

/** Opens `module`'s database; a Postgres that is not up yet is retried with e-based jittered backoff, each attempt logged. */
export async function connectModuleDatabase(module: string, config: DatabaseConfig, log: Logger): Promise<ModuleDatabase> {
  for (let attempt = 1; ; attempt++) {
    try {
      const mdb = await openModuleDatabase(module, { dataDir: config.DATA_DIR, databaseUrl: config.DATABASE_URL, log });
      if (mdb.schema) log.info({ module, schema: mdb.schema, attempt }, 'postgres connected');
      return mdb;
    } catch (err) {
      const where = config.DATABASE_URL ? redactUrl(config.DATABASE_URL) : config.DATA_DIR;
      if (attempt >= config.DB_CONNECT_ATTEMPTS) {
        throw new Error(`cannot open the database of module ${module} at ${where} after ${attempt} attempts: ${(err as Error).message}`);
      }
      // e-based growth with jitter, as the original's 1, 2, 7, 20, 54 s, capped at DB_CONNECT_MAX_MS.
      const delay = Math.round(Math.min(config.DB_CONNECT_MAX_MS, config.DB_CONNECT_BASE_MS * Math.E ** (attempt - 1)) * (0.5 + Math.random() / 2));
      log.warn(
        { module, attempt, attempts: config.DB_CONNECT_ATTEMPTS, delayMs: delay, err: (err as Error).message },
        config.DATABASE_URL ? 'postgres connect failed; retrying' : 'sqlite open failed; retrying',
      );
      await sleep(delay);
    }
  }
}

/** Connects and applies every pending migration; logs what it applied. */
export async function openMigratedDatabase(module: ModuleDefinition<any>, config: DatabaseConfig, log: Logger): Promise<ModuleDatabase> {
  const mdb = await connectModuleDatabase(module.name, config, log);
  try {
    const applied = await migrateUp(mdb, moduleMigrations(module));
    if (applied.length) log.info({ module: module.name, applied }, 'migrations applied');
    return mdb;
  } catch (err) {
    await mdb.close();
    throw err;
  }
}

/**
 * Runs `module`'s seed hook as the server would see the data: config parsed from `env` (the server's
 * environment), the database opened and migrated. Used by the bench before it starts a server.
 */
export async function seedModule(module: ModuleDefinition<any>, env: Env, count: number): Promise<void> {
  if (!module.seed) throw new Error(`module ${module.name} has no seed hook`);
  const schema = module.config ?? z.object({});
  const merged = readEnv(env, [...configKeys(kernelConfigSchema), ...configKeys(schema)]);
  const { kernel, own } = parseConfig({ kernel: kernelConfigSchema, own: schema }, merged);
  const log = createLogger('warn');
  const mdb = module.migrations ? await openMigratedDatabase(module, kernel, log) : undefined;
  try {
    await module.seed({ config: own, db: mdb?.db, read: mdb?.read, log }, count);
  } finally {
    await mdb?.close();
  }
}
