// Stock through events, end to end over HTTP: 50 racing orders for 10 airships, replayed events, a late event for a deleted product.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { writeOutbox } from '../../kernel/bus/outbox.ts';
import { gate, waitFor } from '../../kernel/testing/index.ts';
import { ORDER_CREATED } from './contract.ts';
import { airship, SETUPS, startShop, waitForStock } from './testing/index.ts';

for (const setup of SETUPS) {
  test(`stock through events (${setup.name})`, await gate(...setup.needs), async (t) => {
    const app = await startShop(setup);
    const { api } = app;
    const db = app.kernel.databases.get('shop')!.db;
    const outboxEmpty = () =>
      waitFor('the outbox to drain', async () => {
        const row = await db
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow();
        return Number(row.n) === 0 ? true : undefined;
      });
    /** Waits for shop.products' inbox row of event `id`: the event was applied (the row is written in the same transaction). */
    const handled = (id: string) =>
      waitFor(`event ${id} in shop.products' inbox`, async () =>
        Boolean(await db.selectFrom('inbox').select('event_id').where('consumer', '=', 'shop.products').where('event_id', '=', id).executeTakeFirst()),
      );
    try {
      await t.test('50 parallel orders of 1 for a stock of 10: exactly 10 succeed, stock ends at 0, never below', async () => {
        await api('POST', '/products', airship('hot', { in_stock: 10 }));
        const seen: number[] = [];
        let racing = true;
        const watcher = (async () => {
          while (racing) {
            seen.push((await api('GET', '/products/hot')).body.in_stock);
            await new Promise((r) => setTimeout(r, 5));
          }
        })();
        const replies = await Promise.all(
          Array.from({ length: 50 }, () => api('POST', '/orders', { order_details: [{ product_id: 'hot', price: '1.00', quantity: 1 }] })),
        );
        const ok = replies.filter((r) => r.status === 200);
        const refused = replies.filter((r) => r.status === 409);
        assert.equal(ok.length, 10, JSON.stringify(replies.filter((r) => r.status !== 200 && r.status !== 409).map((r) => r.body)));
        assert.equal(refused.length, 40);
        assert.ok(refused.every((r) => r.body.error === 'OUT_OF_STOCK'));
        assert.equal(new Set(ok.map((r) => r.body.id)).size, 10);
        await waitForStock(api, 'hot', 0);
        racing = false;
        await watcher;
        assert.ok(
          seen.every((s) => s >= 0 && s <= 10),
          `in_stock seen: ${seen.join(',')}`,
        );
        assert.equal((await api('GET', '/orders?limit=100')).body.total, 10);
      });

      await t.test('replaying order_created (same event id, or a second copy) changes nothing', async () => {
        await api('POST', '/products', airship('replayed', { in_stock: 10 }));
        const order = await api('POST', '/orders', { order_details: [{ product_id: 'replayed', price: '1.00', quantity: 3 }] });
        await waitForStock(api, 'replayed', 7);
        await outboxEmpty();
        const { reservation_id } = await db.selectFrom('orders').select('reservation_id').where('id', '=', order.body.id).executeTakeFirstOrThrow();
        const payload = { order_id: order.body.id, reservation_id, lines: [{ product_id: 'replayed', quantity: 3 }] };
        // In one process the order's own event was applied in its transaction (BUS_INLINE): no inbox entry to
        // replay. A second copy (a new id, the same reservation) goes through the outbox, then the same id again.
        const copy = await writeOutbox(db, 'shop', ORDER_CREATED.name, payload); // a double publish
        await outboxEmpty();
        await handled(copy);
        await writeOutbox(db, 'shop', ORDER_CREATED.name, payload, copy); // a redelivery of that copy
        await outboxEmpty();
        assert.equal((await api('GET', '/products/replayed')).body.in_stock, 7);
      });

      await t.test('a late order_created for a deleted product does not bring it back', async () => {
        await api('POST', '/products', airship('ghost', { in_stock: 4 }));
        assert.ok((await app.traces('ghost')).length > 0, 'the probe sees a stored product');
        const total = (await api('GET', '/products?limit=1')).body.total;
        assert.equal((await api('DELETE', '/products/ghost')).status, 204);
        const late = await writeOutbox(db, 'shop', ORDER_CREATED.name, {
          order_id: 424242,
          reservation_id: randomUUID(),
          lines: [{ product_id: 'ghost', quantity: 2 }],
        });
        await outboxEmpty();
        await handled(late);
        assert.equal((await api('GET', '/products/ghost')).status, 404);
        assert.equal((await api('GET', '/products?limit=1')).body.total, total - 1);
        assert.deepEqual((await api('GET', '/products?title=ghost')).body.items, []);
        // The answers above skip a half-written product; the store itself must hold nothing of it.
        assert.deepEqual(await app.traces('ghost'), [], 'the late event re-created nothing in the store');
        const dead = await db.selectFrom('dead_letters').selectAll().execute();
        assert.deepEqual(dead, [], 'the late event was applied (as nothing), not dead-lettered');
      });
    } finally {
      await app.close();
    }
  });
}
