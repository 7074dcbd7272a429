// The module contract: one definition per module, built per enabled role by the composition root.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { Dialect } from '../db/database.ts';
import type { Reader } from '../db/read.ts';
import type { CachedSqlite } from '../db/statement-cache.ts';
import type { KernelConfig } from './config.ts';
import type { Contract, Facade, Topic } from './contract.ts';
import type { Logger } from './logger.ts';
import type { ConsoleHook } from './console/hook.ts';
import type { Publisher, Subscription } from './bus/types.ts';
import type { RouteSpec } from './http/route.ts';
import { checkName } from './names.ts';

export type { ConsoleButton, ConsoleCell, ConsoleHook, ConsoleMail, ConsolePanel } from './console/hook.ts';

/** What every role gets. */
export interface BaseContext<Cfg = unknown> {
  /** `module.role` */
  name: string;
  config: Cfg;
  kernel: KernelConfig;
  log: Logger;
  metrics: Registry;
  /** The clock (tests may pass their own to bootstrap). */
  now(): Date;
  /** Another role's facade: in-process when that role runs here, else over its configured transport. */
  facade<C extends Contract>(contract: C): Facade<C>;
  /** `/readyz` answers 503 while any check returns false or throws. */
  addReadinessCheck(name: string, check: () => boolean | Promise<boolean>): void;
}

/** What a role of a module with migrations gets besides: its database and the outbox publisher on it. */
export interface DatabaseContext<DB = unknown> {
  /** The module's own database (a SQLite file or a Postgres schema), typed by the module's `db.ts`. */
  db: Kysely<DB>;
  dialect: Dialect;
  /**
   * SQLite only: the better-sqlite3 connection under `db` (statements cached by SQL text). Use it
   * inside `db.connection().execute` (which holds the connection's lock), so that no other query
   * runs in the middle of yours.
   */
  sqlite?: CachedSqlite;
  /** Hot reads as SQL text with `?` markers, on either dialect (db/read.ts): no query builder on the path. */
  read: Reader;
  bus: Publisher;
}

export type RoleContext<Cfg = unknown, DB = unknown> = BaseContext<Cfg> & DatabaseContext<DB>;

export interface RoleInstance<C extends Contract = Contract> {
  facade?: Facade<C>;
  routes?: RouteSpec[];
  /** `on(topic, handler)` for each topic the role declares in `subscribes`; the kernel adds inbox, retries, dead letters. */
  subscriptions?: Subscription[];
  /** What the role shows on /console: read-only tables, the mail it sent, a few actions (kernel/console/hook.ts). */
  console?: ConsoleHook;
  stop?(): Promise<void>;
}

export interface RoleSpec<Ctx = BaseContext> {
  /** The contract this role serves (in-process, and to other processes over a transport). */
  provides?: Contract;
  /** Contracts of other roles this role calls; each must run here or have `<MODULE>_<ROLE>_URL` set. */
  uses?: Contract[];
  /** Topics this role publishes (start-up checks that every subscriber can be reached). */
  publishes?: Topic[];
  /** Topics this role's `subscriptions` handle; the module then needs migrations (the inbox lives in its database). */
  subscribes?: Topic[];
  create(ctx: Ctx): RoleInstance<any> | Promise<RoleInstance<any>>;
}

/** What a module's seed hook gets: its parsed config and, when it has migrations, its migrated database. */
export interface SeedContext<Cfg = unknown, DB = unknown> {
  config: Cfg;
  db?: Kysely<DB>;
  /** With `db`: its reader (db/read.ts). */
  read?: Reader;
  log: Logger;
}

interface ModuleBase<S extends z.ZodType, DB = unknown> {
  name: string;
  description: string;
  /** Read from the environment; invalid values fail start-up together with every other problem. */
  config?: S;
  /** `npm run smoke -- <module> [base-url] [--<role> url]`: exercise a running instance, print each step, throw on failure.
   *  `roleUrls`: the roles given a base URL of their own (the split layout); the others are at `baseUrl`. */
  smoke?(baseUrl: string, print: (line: string) => void, roleUrls?: Record<string, string>): Promise<void>;
  /** For the bench: replace the module's data with `count` generated items, before the server starts (kernel seedModule). */
  seed?(ctx: SeedContext<z.output<S>, DB>, count: number): Promise<void>;
}

/** `DB`: the module's tables (its `db.ts`), which every role's `ctx.db` is typed by. */
export interface ModuleWithDatabase<S extends z.ZodType = z.ZodType, DB = any> extends ModuleBase<S, DB> {
  /** Name → migration, applied in name order to the module's own database. */
  migrations: Record<string, Migration>;
  roles: Record<string, RoleSpec<BaseContext<z.output<S>> & DatabaseContext<DB>>>;
}

export interface ModuleWithoutDatabase<S extends z.ZodType = z.ZodType> extends ModuleBase<S> {
  migrations?: undefined;
  roles: Record<string, RoleSpec<BaseContext<z.output<S>>>>;
}

export type ModuleDefinition<S extends z.ZodType = z.ZodType> = ModuleWithDatabase<S> | ModuleWithoutDatabase<S>;

/** A module is one definition; a module with `migrations` has a database, and only its roles get `db` and `bus`. */
export function defineModule<S extends z.ZodType, DB>(def: ModuleWithDatabase<S, DB>): ModuleWithDatabase<S, DB>;
export function defineModule<S extends z.ZodType>(def: ModuleWithoutDatabase<S>): ModuleWithoutDatabase<S>;
export function defineModule(def: ModuleDefinition<any>): ModuleDefinition<any> {
  checkName('module', def.name);
  for (const role of Object.keys(def.roles)) checkName('role', role);
  return def;
}
