// The shop.orders role: the order routes, calling shop.products through its facade (in-process or HTTP).
import type { RoleContext, RoleInstance } from '../../../kernel/module.ts';
import { imageRoot, type ShopConfig } from '../config.ts';
import { productsContract } from '../contract.ts';
import type { ShopDB } from '../db.ts';
import { orderRoutes } from './routes.ts';
import { createOrderService } from './service.ts';
import { createOrderStore } from './store.ts';

export function createOrdersRole(ctx: RoleContext<ShopConfig, ShopDB>): RoleInstance {
  const service = createOrderService({
    db: ctx.db,
    store: createOrderStore(ctx.db, ctx.read, ctx.sqlite),
    products: ctx.facade(productsContract),
    bus: ctx.bus,
    log: ctx.log,
    imageRoot: imageRoot(ctx.config, ctx.kernel),
    holdTtlMs: ctx.config.SHOP_HOLD_TTL_MS,
    now: ctx.now,
  });
  return { routes: orderRoutes(service) };
}
