// The order service's deadline: an order not stored within half the hold TTL is refused and its holds released.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openModuleDatabase } from '../../../db/database.ts';
import { migrateUp } from '../../../db/migrator.ts';
import { busMigrations } from '../../../kernel/bus/index.ts';
import { asBusTables } from '../../../kernel/bus/tables.ts';
import { writeOutbox } from '../../../kernel/bus/outbox.ts';
import { AppError } from '../../../kernel/errors.ts';
import { createLogger } from '../../../kernel/logger.ts';
import { tempDir } from '../../../kernel/testing/index.ts';
import { migrations } from '../migrations/index.ts';
import { createSqlStore } from '../products/sql-store.ts';
import { createOrderService } from './service.ts';
import { createOrderStore } from './store.ts';

test('an order whose insert ends later than half the hold TTL after the reserve is refused (503), holds released, nothing stored', async () => {
  const mdb = await openModuleDatabase('shop', { dataDir: tempDir(), log: createLogger('silent') });
  try {
    await migrateUp(mdb, { ...busMigrations, ...migrations });
    const products = createSqlStore(mdb.db, () => new Date(), mdb.read, mdb.sqlite);
    await products.create({ id: 'slow', title: 'Slow', passenger_capacity: 1, maximum_speed: 1, in_stock: 2 });
    let t = 0;
    const service = createOrderService({
      db: mdb.db,
      store: createOrderStore(mdb.db, mdb.read, mdb.sqlite),
      products: {
        getMany: async ({ ids }) => ({ products: await products.getMany(ids) }),
        reserve: async ({ reservation_id, lines }) => {
          assert.equal((await products.reserve(reservation_id, lines, Date.now(), 10_000)).ok, true);
          t += 5001; // the insert below ends just past TTL / 2 after this
          return { reservation_id };
        },
        release: async ({ reservation_id }) => ({ released: await products.release(reservation_id) }),
      },
      bus: { publish: (trx, topic, payload) => writeOutbox(asBusTables(trx), 'shop', topic.name, payload) },
      log: createLogger('silent'),
      imageRoot: 'http://x',
      holdTtlMs: 10_000,
      now: () => new Date(),
      clock: () => t,
    });
    await assert.rejects(service.create([{ product_id: 'slow', price: '1.00', quantity: 2 }]), (err: unknown) => err instanceof AppError && err.status === 503);
    assert.equal((await mdb.db.selectFrom('orders').selectAll().execute()).length, 0, 'no order');
    assert.equal((await mdb.db.selectFrom('outbox').selectAll().execute()).length, 0, 'no event');
    assert.equal((await mdb.db.selectFrom('stock_holds').selectAll().execute()).length, 0, 'holds released at once');
  } finally {
    await mdb.close();
  }
});
