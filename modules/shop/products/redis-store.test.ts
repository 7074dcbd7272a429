// The products store contract on the real Redis (127.0.0.1:6379), under a key prefix of its own, deleted afterwards.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { openModuleDatabase } from '../../../db/database.ts';
import { migrateUp } from '../../../db/migrator.ts';
import { createLogger } from '../../../kernel/logger.ts';
import { gate, REDIS_URL, tempDir, uniqueName } from '../../../kernel/testing/index.ts';
import { migrations } from '../migrations/index.ts';
import { storedReservations } from './stored-orders.ts';
import { redisTraces } from '../testing/index.ts';
import { runStoreContract } from '../testing/store-contract.ts';
import { createRedisStore } from './redis-store.ts';

/** Deletes every key under `prefix`; how many there were. */
async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) deleted += await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

test('Redis products store', await gate('redis'), async (t) => {
  const prefix = `${uniqueName('cantons-test-shop')}:`;
  // The orders stay in SQL: the shop database the products role asks whether a reservation's order was stored.
  const shopDb = await openModuleDatabase('shop', { dataDir: tempDir(), log: createLogger('silent') });
  await migrateUp(shopDb, migrations);
  const store = createRedisStore({ url: REDIS_URL, prefix, storedReservations: (ids) => storedReservations(shopDb.db, ids) });
  const redis = new Redis(REDIS_URL);
  try {
    await runStoreContract(t, {
      store,
      apply: (rid, lines) => store.applyOrderCreated(rid, lines, undefined as never),
      traces: (id) => redisTraces(redis, prefix, id),
      storeOrder: async (rid) => {
        await shopDb.db.insertInto('orders').values({ reservation_id: rid, created_at: new Date().toISOString() }).execute();
      },
    });

    await t.test('the layout is what docs/shop.md says: a hash per product, an index, no KEYS needed', async () => {
      assert.deepEqual(await redis.hgetall(`${prefix}product:the_odyssey`), {
        id: 'the_odyssey',
        title: 'Airship the_odyssey',
        passenger_capacity: '101',
        maximum_speed: '5',
        in_stock: '10',
      });
      assert.equal(await redis.zscore(`${prefix}products`, 'the_odyssey'), '0');
      assert.equal(await redis.hget(`${prefix}titles`, 'the_odyssey'), 'Airship the_odyssey');
      const rid = randomUUID();
      await store.reserve(rid, [{ product_id: 'the_odyssey', quantity: 2 }], Date.now(), 60_000);
      assert.equal(await redis.hget(`${prefix}holds:the_odyssey`, rid), '2');
      assert.ok(Number(await redis.pttl(`${prefix}reservation:${rid}`)) > 0);
      await store.applyOrderCreated(rid, [{ product_id: 'the_odyssey', quantity: 2 }], undefined as never);
      assert.equal(await redis.exists(`${prefix}reservation:${rid}`), 0);
      assert.ok(Number(await redis.ttl(`${prefix}applied:${rid}`)) > 0);
    });

    await t.test('ping answers while Redis is up', async () => {
      assert.equal(await store.ping(), true);
    });
  } finally {
    await store.close();
    await shopDb.close();
    assert.ok((await deleteKeys(redis, prefix)) > 0);
    redis.disconnect();
  }
});
