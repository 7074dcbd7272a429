// Test support for real services and scratch space: free ports, temp dirs, fresh Postgres databases, the service gate.
// Kept apart from app.ts (which boots the app) so low-level tests import no module code.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { openModuleDatabase, type ModuleDatabase } from '../../db/database.ts';
import type { Env } from '../config.ts';
import type { Logger } from '../logger.ts';

import { tempDir } from '../spawn-app.ts';

export { freePort, tempDir } from '../spawn-app.ts';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

/** A new Postgres database for this test run; `drop()` removes it. */
export async function createTestDatabase(prefix = 'cantons_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(5000); // generous: a loaded CI machine must not read as a missing service
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.connect(Number(u.port || defaultPort), u.hostname);
  });
}

export type Service = 'postgres' | 'redis' | 'etcd' | 'chromium';

/** Debian's chromium, driven by playwright-core (docs/decisions/0016); CHROMIUM_PATH names another build. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const known = new Map<Service, Promise<boolean>>();

/** Whether the service answers (Postgres, Redis) or is installed (etcd); asked once per test process. */
export function serviceAvailable(service: Service): Promise<boolean> {
  let answer = known.get(service);
  if (!answer) {
    answer =
      service === 'postgres'
        ? reachable(PG_URL, 5432)
        : service === 'redis'
          ? reachable(REDIS_URL, 6379)
          : new Promise((resolve) =>
              spawn(service === 'chromium' ? CHROMIUM_PATH : 'etcd', ['--version'])
                .once('error', () => resolve(false))
                .once('exit', (c) => resolve(c === 0)),
            );
    known.set(service, answer);
  }
  return answer;
}

const missing = (service: Service) =>
  service === 'etcd' || service === 'chromium'
    ? `${service} is not installed (apt-get install ${service === 'etcd' ? 'etcd-server' : 'chromium'})`
    : `${service} is not reachable`;

/**
 * The one gate for tests that need real services: `describe(name, await gate('postgres'), …)` (or
 * `it(…)`). Skips with a message naming what is missing; under CI=true, where every test must run,
 * a missing service throws instead, so the whole file fails at once rather than passing unseen.
 */
export async function gate(...services: Service[]): Promise<{ skip?: string }> {
  for (const service of services) {
    if (await serviceAvailable(service)) continue;
    if (process.env.CI === 'true') throw new Error(`${missing(service)}; CI=true requires it`);
    return { skip: missing(service) };
  }
  return {};
}

/** Deletes every key under `prefix` (SCAN, never KEYS), so each run cleans up after its own prefix. */
export async function deleteRedisKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * The two SQL engines, the one list every test of both runs over: `for (const engine of ENGINES) describe(engine.name,
 * await gate(...engine.needs), …)`. `prepare` gives an app's env on the engine (SQLite: the app's own DATA_DIR; Postgres:
 * a fresh database); `open` gives a module's database itself (SQLite in a temp dir), unmigrated.
 */
export interface Engine {
  name: 'SQLite' | 'Postgres';
  /** The real services it runs on: pass to `gate`. */
  needs: Service[];
  /** Env for an app on this engine and what to clean after it closes; `prefix` names the Postgres database. */
  prepare(prefix?: string): Promise<{ env: Env; cleanup(): Promise<void> }>;
  /** A module's database on this engine; close `mdb`, then `drop()`. */
  open(module: string, log: Logger): Promise<{ mdb: ModuleDatabase; drop(): Promise<void> }>;
}

export const ENGINES: Engine[] = [
  {
    name: 'SQLite',
    needs: [],
    prepare: async () => ({ env: {}, cleanup: async () => {} }),
    open: async (module, log) => ({ mdb: await openModuleDatabase(module, { dataDir: tempDir(), log }), drop: async () => {} }),
  },
  {
    name: 'Postgres',
    needs: ['postgres'],
    async prepare(prefix) {
      const database = await createTestDatabase(prefix);
      return { env: { DATABASE_URL: database.url }, cleanup: () => database.drop() };
    },
    async open(module, log) {
      const database = await createTestDatabase(`${module}_test`);
      return { mdb: await openModuleDatabase(module, { dataDir: '', databaseUrl: database.url, log }), drop: () => database.drop() };
    },
  },
];
