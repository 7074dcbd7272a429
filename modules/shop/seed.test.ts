// The seed hook as the bench runs it (kernel seedModule, before the server starts): the catalogue becomes exactly `count` products.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import type { Env } from '../../kernel/config.ts';
import { seedModule } from '../../kernel/module-database.ts';
import { gate, REDIS_URL, startTestApp, tempDir } from '../../kernel/testing/index.ts';
import { shop } from './index.ts';
import { catalogue } from './seed.ts';
import { airship, api, redisTraces, SETUPS, sqlTraces } from './testing/index.ts';

test('catalogue(count): count products with distinct ids in byte order, every 7th a Zeppelin', () => {
  const products = catalogue(12);
  assert.equal(products.length, 12);
  assert.deepEqual(
    products.slice(0, 2).map((p) => p.id),
    ['seed-01', 'seed-02'],
  );
  assert.deepEqual(
    products.map((p) => p.id),
    products.map((p) => p.id).sort(),
  );
  assert.deepEqual(
    products.filter((p) => p.title.startsWith('Zeppelin')).map((p) => p.id),
    ['seed-01', 'seed-08'],
  );
});

for (const variant of SETUPS) {
  test(`the seed hook replaces the catalogue (${variant.name})`, await gate(...variant.needs), async () => {
    const prepared = await variant.prepare();
    const env: Env = { MODULES: 'shop', DATA_DIR: tempDir(), BUS_POLL_MS: '50', ...prepared.env };
    const redis = new Redis(REDIS_URL);
    try {
      // A product from before, with an order holding stock of it.
      let app = await startTestApp({ env });
      await api(app.url)('POST', '/products', airship('old-one'));
      await api(app.url)('POST', '/orders', { order_details: [{ product_id: 'old-one', price: '1.00', quantity: 1 }] });
      await app.close();

      await seedModule(shop, env, 30);
      await seedModule(shop, env, 12);

      app = await startTestApp({ env });
      try {
        const call = api(app.url);
        const traces =
          env.SHOP_PRODUCTS_STORE === 'redis'
            ? (id: string) => redisTraces(redis, env.SHOP_REDIS_PREFIX!, id)
            : (id: string) => sqlTraces(app.kernel.databases.get('shop')!.db, id);
        const first = await call('GET', '/products?limit=100');
        assert.equal(first.body.total, 12, 'replaced, not added to');
        assert.deepEqual(first.body.items, catalogue(12));
        assert.deepEqual(await traces('old-one'), [], 'the product from before is gone with its holds');
        assert.deepEqual(await traces('seed-13'), [], 'the first seed (30) is gone');
        const zeppelins = await call('GET', '/products?title=zeppelin');
        assert.deepEqual(
          zeppelins.body.items.map((p: { id: string }) => p.id),
          ['seed-01', 'seed-08'],
        );
        // The seeded store works as any other: an order takes stock.
        assert.equal((await call('POST', '/orders', { order_details: [{ product_id: 'seed-02', price: '1.00', quantity: 1 }] })).status, 200);
        assert.equal((await call('GET', '/orders')).body.total, 2, 'orders are not the catalogue: they stay');
      } finally {
        await app.close();
      }
    } finally {
      redis.disconnect();
      await prepared.cleanup();
    }
  });
}
