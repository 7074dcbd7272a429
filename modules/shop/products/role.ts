// The shop.products role: picks the store, serves the facade (getMany, reserve, release) and applies order_created.
import type { Transaction } from 'kysely';
import type { Facade } from '../../../kernel/contract.ts';
import type { RoleContext, RoleInstance } from '../../../kernel/module.ts';
import type { ShopConfig } from '../config.ts';
import { on } from '../../../kernel/bus/types.ts';
import { ORDER_CREATED, type productsContract } from '../contract.ts';
import type { ShopDB } from '../db.ts';
import { shopErrors } from '../errors.ts';
import { createRedisStore } from './redis-store.ts';
import { productsConsole } from './console.ts';
import { productRoutes } from './routes.ts';
import { createSqlStore } from './sql-store.ts';
import type { ProductStore } from './store.ts';
import { storedReservations } from './stored-orders.ts';

export function openProductStore(
  ctx: Pick<RoleContext<ShopConfig, ShopDB>, 'config' | 'db' | 'read' | 'log' | 'now'> & Partial<Pick<RoleContext<ShopConfig, ShopDB>, 'sqlite'>>,
): ProductStore {
  const { config } = ctx;
  if (config.SHOP_PRODUCTS_STORE === 'sql') return createSqlStore(ctx.db, ctx.now, ctx.read, ctx.sqlite);
  return createRedisStore({
    url: config.REDIS_URL!,
    prefix: config.SHOP_REDIS_PREFIX,
    storedReservations: (ids) => storedReservations(ctx.db, ids),
    onError: (err) => ctx.log.warn({ err: err.message }, 'products store: redis connection error'),
  });
}

export function createProductsRole(ctx: RoleContext<ShopConfig, ShopDB>): RoleInstance<typeof productsContract> {
  const store = openProductStore(ctx);
  if (store.kind === 'redis') ctx.addReadinessCheck('redis', () => store.ping());

  const facade: Facade<typeof productsContract> = {
    getMany({ ids }) {
      return store.getMany(ids).then((products) => ({ products }));
    },
    async reserve({ reservation_id, lines }) {
      const result = await store.reserve(reservation_id, lines, ctx.now().getTime(), ctx.config.SHOP_HOLD_TTL_MS);
      if (result.ok) return { reservation_id };
      if (result.reason === 'not_found') throw shopErrors.PRODUCT_NOT_FOUND(`Product Id ${result.product_id}`);
      throw shopErrors.OUT_OF_STOCK(`Product Id ${result.product_id}: ${result.requested} requested, ${result.available} available`);
    },
    async release({ reservation_id }) {
      return { released: await store.release(reservation_id) };
    },
  };

  return {
    facade,
    routes: productRoutes(store),
    console: productsConsole(store, () => ctx.now().getTime()),
    subscriptions: [
      // Runs in the kernel's consumer transaction on the shop database (inbox entry included).
      on(ORDER_CREATED, async ({ id, payload }, trx: Transaction<ShopDB>) => {
        const applied = await store.applyOrderCreated(payload.reservation_id, payload.lines, trx);
        if (!applied) ctx.log.info({ eventId: id, order: payload.order_id }, 'order_created already applied; skipped');
      }),
    ],
    stop: () => store.close(),
  };
}
