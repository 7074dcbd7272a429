// shop.products and shop.orders as two real processes: orders calls products over HTTP, events travel over Redis Streams.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gate } from '../../kernel/testing/index.ts';
import { airship, api, spawnSplitShop, waitForStock } from './testing/index.ts';

const variants = [
  { name: 'SQLite file shared by both processes', postgres: false },
  { name: 'Postgres schema shared by both processes', postgres: true },
];

for (const variant of variants) {
  test(`split roles end to end (${variant.name})`, await gate('redis', ...(variant.postgres ? ['postgres' as const] : [])), async () => {
    const split = await spawnSplitShop({ postgres: variant.postgres });
    try {
      const { products, orders } = split;
      const p = api(products.url);
      const o = api(orders.url);

      // Each process serves only its own role's routes.
      assert.equal((await o('GET', '/products/the_odyssey')).status, 404);
      assert.equal((await o('GET', '/products/the_odyssey')).body.error, 'NOT_FOUND');
      assert.equal((await p('GET', '/orders/1')).body.error, 'NOT_FOUND');

      assert.equal((await p('POST', '/products', airship('the_odyssey', { in_stock: 3 }))).status, 200);
      const created = await o('POST', '/orders', { order_details: [{ product_id: 'the_odyssey', price: '100000.99', quantity: 2 }] });
      assert.equal(created.status, 200, created.text);
      // The decrement arrives over Redis Streams in the products process.
      await waitForStock(p, 'the_odyssey', 1, 10_000);
      const got = await o('GET', `/orders/${created.body.id}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.order_details[0].price, '100000.99');
      assert.deepEqual(got.body.order_details[0].product, airship('the_odyssey', { in_stock: 1 }));

      // Errors of the products role come back through the HTTP facade with their codes.
      const tooMany = await o('POST', '/orders', { order_details: [{ product_id: 'the_odyssey', price: '1.00', quantity: 2 }] });
      assert.deepEqual([tooMany.status, tooMany.body], [409, { error: 'OUT_OF_STOCK', message: 'Product Id the_odyssey: 2 requested, 1 available' }]);
      const unknown = await o('POST', '/orders', { order_details: [{ product_id: 'nope', price: '1.00', quantity: 1 }] });
      assert.deepEqual([unknown.status, unknown.body], [404, { error: 'PRODUCT_NOT_FOUND', message: 'Product Id nope' }]);

      // A few orders racing across the two processes still never oversell.
      await p('POST', '/products', airship('hot', { in_stock: 5 }));
      const replies = await Promise.all(
        Array.from({ length: 12 }, () => o('POST', '/orders', { order_details: [{ product_id: 'hot', price: '1.00', quantity: 1 }] })),
      );
      assert.equal(replies.filter((r) => r.status === 200).length, 5);
      await waitForStock(p, 'hot', 0, 10_000);

      // The products process down: orders answers 503 ROLE_UNAVAILABLE, not a 500.
      assert.equal(await products.stop(), 0);
      const down = await o('GET', `/orders/${created.body.id}`);
      assert.equal(down.status, 503);
      assert.equal(down.body.error, 'ROLE_UNAVAILABLE');
    } finally {
      await split.stop();
    }
  });
}
