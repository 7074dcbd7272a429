// Test helpers for the shop: the app on each products store / database, a JSON client, waiting for events.
import type { TestContext } from 'node:test';
import type { Env } from '../../kernel/config.ts';
import { createTestDatabase, deleteRedisKeys, needService, REDIS_URL, startTestApp, uniqueName, type TestApp } from '../../kernel/testing.ts';

export { deleteRedisKeys };
import type { Product } from './contract.ts';

export interface Setup {
  name: string;
  needs?: 'postgres' | 'redis';
  /** Extra env and what to clean afterwards. */
  prepare(): Promise<{ env: Env; cleanup(): Promise<void> }>;
}

/** SQLite + SQL store (the default), Postgres + SQL store, SQLite + Redis store. */
export const SETUPS: Setup[] = [
  { name: 'SQLite', prepare: async () => ({ env: {}, cleanup: async () => {} }) },
  {
    name: 'Postgres',
    needs: 'postgres',
    async prepare() {
      const database = await createTestDatabase('shop_http');
      return { env: { DATABASE_URL: database.url }, cleanup: () => database.drop() };
    },
  },
  {
    name: 'Redis products store',
    needs: 'redis',
    async prepare() {
      const prefix = `${uniqueName('cantons-test-shop')}:`;
      return { env: { SHOP_PRODUCTS_STORE: 'redis', REDIS_URL, SHOP_REDIS_PREFIX: prefix }, cleanup: () => deleteRedisKeys(prefix) };
    },
  },
];

/** Starts MODULES=shop on `setup` (skipping the test when its server is missing); null when skipped. */
export async function startShop(t: TestContext, setup: Setup, env: Env = {}): Promise<(TestApp & { api: Api }) | null> {
  if (setup.needs && !(await needService(t, setup.needs))) return null;
  const prepared = await setup.prepare();
  const app = await startTestApp({ env: { MODULES: 'shop', BUS_POLL_MS: '50', ...prepared.env, ...env } });
  return {
    ...app,
    api: api(app.url),
    async close() {
      await app.close();
      await prepared.cleanup();
    },
  };
}

export interface Reply {
  status: number;
  body: any;
  text: string;
}

export type Api = (method: string, path: string, body?: unknown, opts?: { raw?: string; headers?: Record<string, string> }) => Promise<Reply>;

export function api(baseUrl: string): Api {
  return async (method, path, body, opts = {}) => {
    const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
      body: payload,
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text };
  };
}

export const airship = (id: string, over: Partial<Product> = {}): Product => ({
  id, title: `Airship ${id}`, passenger_capacity: 101, maximum_speed: 5, in_stock: 10, ...over,
});

/** Polls `probe` until it returns something other than undefined (or throws after `timeoutMs`). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until GET /products/:id shows `in_stock` = expected. */
export function waitForStock(call: Api, id: string, expected: number, timeoutMs = 5000): Promise<true> {
  return waitFor(`${id} in_stock = ${expected}`, async () => ((await call('GET', `/products/${id}`)).body?.in_stock === expected ? true : undefined), timeoutMs);
}
