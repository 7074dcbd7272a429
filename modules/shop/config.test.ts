// The shop's configuration: problems are reported at start-up, image URLs follow PORT, and a Redis store that is
// away shows in /readyz and as 503.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrap } from '../../kernel/bootstrap.ts';
import { freePort, startTestApp } from '../../kernel/testing/index.ts';
import { airship, api } from './testing/index.ts';

test('the Redis store needs REDIS_URL; an unknown store is refused', () => {
  assert.throws(
    () => bootstrap({ env: { MODULES: 'shop', SHOP_PRODUCTS_STORE: 'redis', LOG_LEVEL: 'silent' } }),
    /REDIS_URL: required when SHOP_PRODUCTS_STORE=redis/,
  );
  assert.throws(() => bootstrap({ env: { MODULES: 'shop', SHOP_PRODUCTS_STORE: 'mongo', LOG_LEVEL: 'silent' } }), /SHOP_PRODUCTS_STORE/);
  assert.throws(() => bootstrap({ env: { MODULES: 'shop', SHOP_HOLD_TTL_MS: '10', LOG_LEVEL: 'silent' } }), /SHOP_HOLD_TTL_MS/);
});

test('the orders role alone needs to know where products live, and a shared bus', () => {
  assert.throws(() => bootstrap({ env: { MODULES: 'shop.orders', LOG_LEVEL: 'silent' } }), /SHOP_PRODUCTS_URL/);
  assert.throws(() => bootstrap({ env: { MODULES: 'shop.orders', SHOP_PRODUCTS_URL: 'http://127.0.0.1:1', LOG_LEVEL: 'silent' } }), /EVENT_BUS_URL/);
});

test("order images default to this process's HOST and PORT (an explicit PRODUCT_IMAGE_ROOT wins)", async () => {
  const image = async (env: Record<string, string>) => {
    const app = await startTestApp({ env: { MODULES: 'shop', ...env } });
    try {
      const call = api(app.url);
      await call('POST', '/products', airship('the_odyssey'));
      const { body } = await call('POST', '/orders', { order_details: [{ product_id: 'the_odyssey', price: '1.00', quantity: 1 }] });
      return (await call('GET', `/orders/${body.id}`)).body.order_details[0].image;
    } finally {
      await app.close();
    }
  };
  assert.equal(await image({ HOST: '0.0.0.0', PORT: '9123' }), 'http://127.0.0.1:9123/images/the_odyssey.jpg');
  assert.equal(await image({ PORT: '9123', PRODUCT_IMAGE_ROOT: 'https://img.example/a/' }), 'https://img.example/a/the_odyssey.jpg');
});

test('a Redis products store that does not answer: /readyz 503, product calls 503 PRODUCTS_STORE_UNAVAILABLE', async () => {
  const deadRedis = `redis://127.0.0.1:${await freePort()}`;
  const app = await startTestApp({ env: { MODULES: 'shop', SHOP_PRODUCTS_STORE: 'redis', REDIS_URL: deadRedis } });
  try {
    const call = api(app.url);
    const ready = await call('GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.checks['shop.products:redis'], false);
    const r = await call('GET', '/products/the_odyssey');
    assert.equal(r.status, 503);
    assert.equal(r.body.error, 'PRODUCTS_STORE_UNAVAILABLE');
    const o = await call('POST', '/orders', { order_details: [{ product_id: 'the_odyssey', price: '1.00', quantity: 1 }] });
    assert.equal(o.status, 503);
    assert.equal((await call('GET', '/orders')).body.total, 0);
  } finally {
    await app.close();
  }
});
