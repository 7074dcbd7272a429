// The shop's own test support: the app on each products store and database, a JSON client, looking into the store.
import { Redis } from 'ioredis';
import type { Env } from '../../../kernel/config.ts';
import {
  createTestDatabase,
  deleteRedisKeys,
  ENGINES,
  REDIS_URL,
  spawnApp,
  startTestApp,
  tempDir,
  uniqueName,
  waitFor,
  type Service,
  type SpawnedApp,
  type TestApp,
} from '../../../kernel/testing/index.ts';
import type { Product } from '../contract.ts';

interface Setup {
  name: string;
  /** The real services it runs on: pass to kernel/testing's gate. */
  needs: Service[];
  /** Extra env, what to clean afterwards, and how to look into the products store itself. */
  prepare(): Promise<{ env: Env; cleanup(): Promise<void>; traces?(id: string): Promise<string[]> }>;
}

/** SQLite + SQL store (the default), Postgres + SQL store (kernel/testing's ENGINES), SQLite + Redis store. */
export const SETUPS: Setup[] = [
  ...ENGINES.map((engine) => ({ name: engine.name, needs: engine.needs, prepare: () => engine.prepare('shop_http') })),
  {
    name: 'Redis products store',
    needs: ['redis'],
    async prepare() {
      const prefix = `${uniqueName('cantons-test-shop')}:`;
      const redis = new Redis(REDIS_URL);
      return {
        env: { SHOP_PRODUCTS_STORE: 'redis', REDIS_URL, SHOP_REDIS_PREFIX: prefix },
        traces: (id) => redisTraces(redis, prefix, id),
        async cleanup() {
          redis.disconnect();
          await deleteRedisKeys(prefix);
        },
      };
    },
  },
];

type ShopApp = TestApp & {
  api: Api;
  /** What the products store still holds of product `id` (a row, a key, an index entry …): [] when nothing. */
  traces(id: string): Promise<string[]>;
};

/** Starts MODULES=shop on `setup` (gate the test on `setup.needs` first). */
export async function startShop(setup: Setup, env: Env = {}): Promise<ShopApp> {
  const prepared = await setup.prepare();
  const app = await startTestApp({ env: { MODULES: 'shop', BUS_POLL_MS: '50', ...prepared.env, ...env } });
  const db = app.kernel.databases.get('shop')!.db;
  return {
    ...app,
    api: api(app.url),
    traces: prepared.traces ?? ((id) => sqlTraces(db, id)),
    async close() {
      await app.close();
      await prepared.cleanup();
    },
  };
}

/**
 * shop.products and shop.orders as two real processes (`npm start` each): orders calls products over HTTP, events
 * travel over Redis Streams. Both share one database: a SQLite file, or a fresh Postgres database (gate on 'redis', and 'postgres').
 */
export async function spawnSplitShop(opts: { postgres?: boolean } = {}): Promise<{ products: SpawnedApp; orders: SpawnedApp; stop(): Promise<void> }> {
  const streamPrefix = uniqueName('cantons-test-shop-bus');
  const database = opts.postgres ? await createTestDatabase('shop_split') : undefined;
  const shared = {
    DATA_DIR: tempDir(),
    EVENT_BUS_URL: REDIS_URL,
    BUS_STREAM_PREFIX: streamPrefix,
    BUS_POLL_MS: '50',
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
  const running: SpawnedApp[] = [];
  // Stopping an app that already exited (a test stopping products itself) only reads its exit code again.
  const stop = async () => {
    for (const app of running) await app.stop();
    await deleteRedisKeys(streamPrefix);
    await database?.drop();
  };
  try {
    running.push(await spawnApp({ ...shared, MODULES: 'shop.products' }));
    running.push(await spawnApp({ ...shared, MODULES: 'shop.orders', SHOP_PRODUCTS_URL: running[0].url }));
  } catch (err) {
    await stop();
    throw err;
  }
  return { products: running[0], orders: running[1], stop };
}

/** Rows of product `id` in the SQL store's tables. */
export async function sqlTraces(db: import('kysely').Kysely<any>, id: string): Promise<string[]> {
  const found: string[] = [];
  if (await db.selectFrom('products').select('id').where('id', '=', id).executeTakeFirst()) found.push('products row');
  if (await db.selectFrom('stock_holds').select('product_id').where('product_id', '=', id).executeTakeFirst()) found.push('stock_holds row');
  return found;
}

/** Keys and index entries of product `id` under the Redis store's prefix (layout: docs/shop.md). */
export async function redisTraces(redis: Redis, prefix: string, id: string): Promise<string[]> {
  const found: string[] = [];
  for (const key of [`product:${id}`, `holds:${id}`, `hold-expiry:${id}`]) if (await redis.exists(`${prefix}${key}`)) found.push(`key ${key}`);
  if ((await redis.zscore(`${prefix}products`, id)) !== null) found.push('member of products');
  if (await redis.hexists(`${prefix}titles`, id)) found.push('field of titles');
  return found;
}

interface Reply {
  status: number;
  body: any;
  text: string;
}

type Api = (method: string, path: string, body?: unknown, opts?: { raw?: string; headers?: Record<string, string> }) => Promise<Reply>;

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
  id,
  title: `Airship ${id}`,
  passenger_capacity: 101,
  maximum_speed: 5,
  in_stock: 10,
  ...over,
});

/** Waits until GET /products/:id shows `in_stock` = expected. */
export function waitForStock(call: Api, id: string, expected: number, timeoutMs = 5000): Promise<true> {
  return waitFor(`${id} in_stock = ${expected}`, async () => (await call('GET', `/products/${id}`)).body?.in_stock === expected || undefined, timeoutMs, 25);
}
