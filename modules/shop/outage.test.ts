// A bus outage longer than SHOP_HOLD_TTL_MS: the holds of stored orders outlive it, so stock is never sold twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gate } from '../../kernel/testing/index.ts';
import { redisServerInstalled, startRedisServer, type RedisServer } from '../../kernel/testing/bus-redis.ts';
import { airship, SETUPS, startShop, waitForStock } from './testing/index.ts';

const TTL_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hasRedisServer = await redisServerInstalled();

for (const setup of SETUPS.filter((s) => s.name !== 'Postgres')) {
  const needs = hasRedisServer ? await gate(...setup.needs) : { skip: 'redis-server is not installed' };
  describe(`bus down longer than the hold TTL, ${setup.name}`, needs, () => {
    let bus: RedisServer;
    before(async () => {
      // The bus's own Redis, persistent (AOF) as the bus requires, so it can be killed and restarted.
      bus = await startRedisServer({ appendonly: true });
    });
    after(() => bus?.close());

    it('stock 10, TTL 2 s, Redis down 4 s: exactly 10 orders accepted, then stock 0 once the events arrive', async () => {
      const shop = await startShop(setup, { EVENT_BUS_URL: bus.url, SHOP_HOLD_TTL_MS: String(TTL_MS) });
      try {
        const { api } = shop;
        assert.equal((await api('POST', '/products', airship('outage', { in_stock: 10 }))).status, 200);
        const order = () => api('POST', '/orders', { order_details: [{ product_id: 'outage', price: '1.00', quantity: 1 }] });

        await bus.kill();
        const first = [];
        for (let i = 0; i < 7; i++) first.push((await order()).status);
        assert.deepEqual(first, Array(7).fill(200), 'stored while the bus is down: their events wait in the outbox');
        // Premise: the events really are waiting (nothing applied the stock).
        assert.equal((await api('GET', '/products/outage')).body.in_stock, 10);
        await sleep(TTL_MS * 1.5); // every hold of those 7 is past its expiry
        const second = [];
        for (let i = 0; i < 10; i++) second.push((await order()).status);
        assert.deepEqual(second, [...Array(3).fill(200), ...Array(7).fill(409)], `after the TTL: ${second.join(' ')}`);
        assert.equal((await api('GET', '/orders?limit=100')).body.total, 10);

        await bus.restart();
        await waitForStock(api, 'outage', 0, 30_000);
        await sleep(300);
        assert.equal((await api('GET', '/products/outage')).body.in_stock, 0);
        assert.equal((await order()).status, 409);
        assert.deepEqual(
          (await shop.traces('outage')).filter((t) => t.includes('hold')),
          [],
          'every hold went with its event',
        );
      } finally {
        await shop.close();
      }
    });
  });
}
