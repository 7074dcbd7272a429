// /orders over HTTP on every setup: place, render, list, delete, a deleted product, and each refusal leaving nothing behind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gate } from '../../../kernel/testing/index.ts';
import { airship, SETUPS, startShop, waitForStock } from '../testing/index.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

for (const setup of SETUPS) {
  test(`orders over HTTP (${setup.name})`, await gate(...setup.needs), async (t) => {
    const app = await startShop(setup, { PRODUCT_IMAGE_ROOT: 'http://img.example/airships/' });
    const { api } = app;
    const orderCount = async () => (await api('GET', '/orders?limit=1')).body.total as number;
    try {
      await api('POST', '/products', airship('the_odyssey'));
      await api('POST', '/products', airship('the_enigma', { in_stock: 5 }));

      await t.test('the original order: 200 {id}, rendered with product and image, stock decremented by the event', async () => {
        const created = await api('POST', '/orders', { order_details: [{ product_id: 'the_odyssey', price: '100000.99', quantity: 1 }] });
        assert.equal(created.status, 200);
        assert.deepEqual(Object.keys(created.body), ['id']);
        assert.ok(Number.isInteger(created.body.id));
        await waitForStock(api, 'the_odyssey', 9);
        const got = await api('GET', `/orders/${created.body.id}`);
        assert.equal(got.status, 200);
        assert.match(got.body.created_at, ISO);
        assert.deepEqual(got.body, {
          id: created.body.id,
          created_at: got.body.created_at,
          order_details: [
            {
              id: got.body.order_details[0].id,
              product_id: 'the_odyssey',
              price: '100000.99',
              quantity: 1,
              image: 'http://img.example/airships/the_odyssey.jpg',
              product: airship('the_odyssey', { in_stock: 9 }),
            },
          ],
        });
      });

      await t.test('several lines, the same product twice, prices rendered with two decimals', async () => {
        const created = await api('POST', '/orders', {
          order_details: [
            { product_id: 'the_enigma', price: '5.5', quantity: 2 },
            { product_id: 'the_odyssey', price: '0', quantity: 1 },
            { product_id: 'the_enigma', price: '99.99', quantity: 1 },
          ],
        });
        assert.equal(created.status, 200);
        await waitForStock(api, 'the_enigma', 2);
        await waitForStock(api, 'the_odyssey', 8);
        const lines = (await api('GET', `/orders/${created.body.id}`)).body.order_details;
        assert.deepEqual(
          lines.map((l: any) => [l.product_id, l.price, l.quantity, l.product.id]),
          [
            ['the_enigma', '5.50', 2, 'the_enigma'],
            ['the_odyssey', '0.00', 1, 'the_odyssey'],
            ['the_enigma', '99.99', 1, 'the_enigma'],
          ],
        );
      });

      await t.test('an unknown product is 404 with the original message; nothing is stored or held', async () => {
        const before = await orderCount();
        const r = await api('POST', '/orders', {
          order_details: [
            { product_id: 'the_enigma', price: '1.00', quantity: 1 },
            { product_id: 'nope', price: '1.00', quantity: 1 },
          ],
        });
        assert.equal(r.status, 404);
        assert.deepEqual(r.body, { error: 'PRODUCT_NOT_FOUND', message: 'Product Id nope' });
        assert.equal(await orderCount(), before);
        // the_enigma has 2 left and none held by the refused order: both can still be ordered.
        assert.equal((await api('POST', '/orders', { order_details: [{ product_id: 'the_enigma', price: '1.00', quantity: 2 }] })).status, 200);
        await waitForStock(api, 'the_enigma', 0);
      });

      await t.test('more than the stock is 409 OUT_OF_STOCK at creation; nothing is stored', async () => {
        const before = await orderCount();
        const r = await api('POST', '/orders', { order_details: [{ product_id: 'the_enigma', price: '1.00', quantity: 1 }] });
        assert.equal(r.status, 409);
        assert.deepEqual(r.body, { error: 'OUT_OF_STOCK', message: 'Product Id the_enigma: 1 requested, 0 available' });
        assert.equal(await orderCount(), before);
        assert.equal((await api('GET', '/products/the_enigma')).body.in_stock, 0);
      });

      await t.test('an order whose product was deleted still renders, with product: null', async () => {
        await api('POST', '/products', airship('doomed'));
        const created = await api('POST', '/orders', {
          order_details: [
            { product_id: 'doomed', price: '10.00', quantity: 1 },
            { product_id: 'the_odyssey', price: '10.00', quantity: 1 },
          ],
        });
        await waitForStock(api, 'doomed', 9);
        assert.equal((await api('DELETE', '/products/doomed')).status, 204);
        const got = await api('GET', `/orders/${created.body.id}`);
        assert.equal(got.status, 200);
        assert.equal(got.body.order_details[0].product, null);
        assert.equal(got.body.order_details[0].image, 'http://img.example/airships/doomed.jpg');
        assert.equal(got.body.order_details[1].product.id, 'the_odyssey');
      });

      await t.test('a missing order is 404 ORDER_NOT_FOUND, also past the integer range', async () => {
        for (const id of ['999999', '99999999999']) {
          const r = await api('GET', `/orders/${id}`);
          assert.equal(r.status, 404);
          assert.deepEqual(r.body, { error: 'ORDER_NOT_FOUND', message: `Order with id ${id} not found` });
        }
      });

      await t.test('GET /orders pages in id order with a cursor and a total; each order rendered', async () => {
        const total = await orderCount();
        assert.equal(total, 4);
        const first = await api('GET', '/orders?limit=3');
        assert.equal(first.status, 200);
        assert.equal(first.body.items.length, 3);
        assert.equal(first.body.total, 4);
        const second = await api('GET', `/orders?limit=3&cursor=${first.body.next_cursor}`);
        assert.equal(second.body.items.length, 1);
        assert.equal(second.body.next_cursor, null);
        const ids = [...first.body.items, ...second.body.items].map((o: any) => o.id);
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => a - b),
        );
        assert.equal(new Set(ids).size, 4);
        assert.equal(first.body.items[0].order_details[0].product.id, 'the_odyssey');
      });

      await t.test('DELETE /orders/:id is 204, then 404', async () => {
        const id = (await api('GET', '/orders?limit=1')).body.items[0].id;
        const r = await api('DELETE', `/orders/${id}`);
        assert.equal(r.status, 204);
        assert.equal(r.text, '');
        assert.equal((await api('GET', `/orders/${id}`)).status, 404);
        const again = await api('DELETE', `/orders/${id}`);
        assert.deepEqual([again.status, again.body], [404, { error: 'ORDER_NOT_FOUND', message: `Order with id ${id} not found` }]);
        assert.equal(await orderCount(), 3);
      });
    } finally {
      await app.close();
    }
  });
}
