// Bulk seeding of the catalogue for benchmarks: straight into the store (multi-row INSERTs / Redis pipelines), before the server starts.
import { openModuleDatabase } from '../../db/database.ts';
import { migrateUp } from '../../db/migrator.ts';
import { busMigrations } from '../../kernel/bus/index.ts';
import { createLogger } from '../../kernel/logger.ts';
import type { Product } from './contract.ts';
import { migrations } from './migrations/index.ts';
import { createRedisStore } from './products/redis-store.ts';
import { createSqlStore } from './products/sql-store.ts';

export interface SeedTarget {
  store: 'sql' | 'redis';
  /** The DATA_DIR the server will be given (SQLite), or DATABASE_URL (Postgres). */
  dataDir: string;
  databaseUrl?: string;
  redisUrl?: string;
  redisPrefix?: string;
}

/** `count` products `<prefix>000001`…, titled so a title filter has something to find. */
export function catalogue(count: number, idPrefix = 'seed-'): Product[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => ({
    id: `${idPrefix}${String(i + 1).padStart(width, '0')}`,
    title: `${i % 7 === 0 ? 'Zeppelin' : 'Blimp'} model ${i + 1}`,
    passenger_capacity: 10 + (i % 300),
    maximum_speed: 50 + (i % 120),
    in_stock: 1_000_000,
  }));
}

/** Migrates the shop database (as the server would) and writes `products` through the chosen store in bulk. */
export async function seedProducts(target: SeedTarget, products: readonly Product[]): Promise<void> {
  const log = createLogger('warn');
  const mdb = await openModuleDatabase('shop', {
    dataDir: target.dataDir,
    databaseUrl: target.databaseUrl,
    connect: { attempts: 3, baseMs: 200, maxMs: 2000 },
    log,
  });
  try {
    await migrateUp(mdb, { ...busMigrations, ...migrations });
    const store =
      target.store === 'sql'
        ? createSqlStore(mdb.db)
        : createRedisStore({ url: target.redisUrl ?? 'redis://127.0.0.1:6379', prefix: target.redisPrefix ?? 'cantons:shop:' });
    try {
      await store.seed(products);
    } finally {
      await store.close();
    }
  } finally {
    await mdb.close();
  }
}
