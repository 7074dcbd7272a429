// Test helpers for real services and scratch space: free ports, temp dirs, fresh Postgres databases, reachability.
// Kept apart from kernel/testing.ts (which boots the app) so low-level tests import no module code.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const scratch = new Set<string>();

/** A fresh directory, removed when the process exits. */
export function tempDir(prefix = 'cantons-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (scratch.size === 0) process.once('exit', () => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
  scratch.add(dir);
  return dir;
}

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
    s.setTimeout(1000);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.connect(Number(u.port || defaultPort), u.hostname);
  });
}

export type Service = 'postgres' | 'redis' | 'etcd';

/** Whether the service answers (Postgres, Redis) or is installed (etcd). */
export async function serviceAvailable(service: Service): Promise<boolean> {
  if (service === 'postgres') return reachable(PG_URL, 5432);
  if (service === 'redis') return reachable(REDIS_URL, 6379);
  return new Promise((resolve) => spawn('etcd', ['--version']).once('error', () => resolve(false)).once('exit', (c) => resolve(c === 0)));
}

/**
 * True when the service answers; otherwise skips the test with a message naming what is missing,
 * or fails it when CI=true (CI must run every test).
 */
export async function needService(t: TestContext, service: Service): Promise<boolean> {
  if (await serviceAvailable(service)) return true;
  const why = service === 'etcd' ? 'etcd is not installed (apt-get install etcd-server)' : `${service} is not reachable`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI requires it`);
  t.skip(why);
  return false;
}

/**
 * For `describe(name, { skip }, …)`: a message naming what is missing, or false when the service is
 * there — and false under CI=true too, so there the tests run and fail rather than pass unseen.
 */
export async function skipUnless(service: Service): Promise<string | false> {
  if (process.env.CI === 'true' || (await serviceAvailable(service))) return false;
  return service === 'etcd' ? 'etcd is not installed (apt-get install etcd-server)' : `${service} is not reachable`;
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
