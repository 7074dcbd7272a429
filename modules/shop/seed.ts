// The bench's seed hook: replaces the catalogue with `count` generated products, straight into the store, before the server starts.
import type { SeedContext } from '../../kernel/module.ts';
import type { ShopConfig } from './config.ts';
import type { Product } from './contract.ts';
import type { ShopDB } from './db.ts';
import { openProductStore } from './products/role.ts';

/** `count` products `seed-000001`…, titled so a title filter has something to find (every 7th a Zeppelin). */
export function catalogue(count: number): Product[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => ({
    id: `seed-${String(i + 1).padStart(width, '0')}`,
    title: `${i % 7 === 0 ? 'Zeppelin' : 'Blimp'} model ${i + 1}`,
    passenger_capacity: 10 + (i % 300),
    maximum_speed: 50 + (i % 120),
    in_stock: 1_000_000,
  }));
}

/**
 * The catalogue becomes exactly `count` products: every product and stock hold goes first (Redis:
 * every key under SHOP_REDIS_PREFIX), then bulk writes (multi-row INSERTs / pipelines).
 */
export async function seedShop(ctx: SeedContext<ShopConfig, ShopDB>, count: number): Promise<void> {
  // A seed runs before the kernel (no ctx.now) and stamps no time: the wall clock is only there to satisfy the store.
  const store = openProductStore({ config: ctx.config, db: ctx.db!, read: ctx.read!, log: ctx.log, now: () => new Date() });
  try {
    await store.clear();
    await store.seed(catalogue(count));
  } finally {
    await store.close();
  }
}
