// The module contract: one definition per module, built per enabled role by the composition root.
import type { Kysely } from 'kysely';
import type { CachedSqlite } from '../db/statement-cache.ts';
import type { Migration } from 'kysely/migration';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { KernelConfig } from './config.ts';
import type { Contract, Facade } from './contract.ts';
import type { Logger } from './logger.ts';
import type { EventHandler, Publisher } from './bus/types.ts';
import type { RouteSpec } from './http/route.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface RoleContext<Cfg = unknown> {
  /** `module.role` */
  name: string;
  config: Cfg;
  kernel: KernelConfig;
  log: Logger;
  /** The module's own database (a SQLite file or a Postgres schema); present when the module has migrations. */
  db: Kysely<any>;
  dialect: Dialect;
  /**
   * SQLite only: the better-sqlite3 connection under `db` (statements cached by SQL text). Use it
   * inside `db.connection().execute` (which holds the connection's lock), so that no other query
   * runs in the middle of yours.
   */
  sqlite?: CachedSqlite;
  bus: Publisher;
  /** Another role's facade: in-process when that role runs here, else over its configured transport. */
  facade<C extends Contract>(contract: C): Facade<C>;
  metrics: Registry;
  /** `/readyz` answers 503 while any check returns false or throws. */
  addReadinessCheck(name: string, check: () => boolean | Promise<boolean>): void;
}

export interface RoleInstance<C extends Contract = Contract> {
  facade?: Facade<C>;
  routes?: RouteSpec[];
  /** topic → handler; the kernel adds inbox, retries with backoff and the dead-letter table. */
  subscriptions?: Record<string, EventHandler<any>>;
  stop?(): Promise<void>;
}

export interface RoleSpec<Cfg = any> {
  /** The contract this role serves (in-process, and over HTTP at /rpc/<module.role>/<method>). */
  provides?: Contract;
  /** Contracts of other roles this role calls; each must run here or have `<MODULE>_<ROLE>_URL` set. */
  uses?: Contract[];
  /** Topics this role publishes (start-up checks that every subscriber can be reached). */
  publishes?: string[];
  create(ctx: RoleContext<Cfg>): RoleInstance<any> | Promise<RoleInstance<any>>;
}

export interface ModuleDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  /** Read from the environment; invalid values fail start-up together with every other problem. */
  config?: S;
  /** Name → migration, applied in name order to the module's own database. */
  migrations?: Record<string, Migration>;
  roles: Record<string, RoleSpec<z.output<S>>>;
  /** `npm run smoke -- <module> [base-url]`: exercise a running instance, print each step, throw on failure. */
  smoke?(baseUrl: string, print: (line: string) => void): Promise<void>;
}

export function defineModule<S extends z.ZodType>(def: ModuleDefinition<S>): ModuleDefinition<S> {
  if (!/^[a-z][a-z0-9-]*$/.test(def.name)) throw new Error(`module name must be lower-case, got ${def.name}`);
  return def;
}
