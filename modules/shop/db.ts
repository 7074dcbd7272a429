// The shop's tables (migrations/), as both engines return them: every role's ctx.db is a Kysely<ShopDB>.
// Postgres bigint columns come back as numbers too (db/database.ts parses int8), as SQLite integers do.
import type { Generated, Kysely } from 'kysely';

export interface ProductsTable {
  id: string;
  title: string;
  passenger_capacity: number;
  maximum_speed: number;
  /** Never negative (a CHECK). */
  in_stock: number;
}

/** Unused with the Redis store, which keeps its holds in Redis. */
export interface StockHoldsTable {
  reservation_id: string;
  product_id: string;
  quantity: number;
  /** Epoch milliseconds (bigint). */
  expires_at: number;
}

/** One row per applied order_created. */
export interface StockAppliedTable {
  reservation_id: string;
  /** ISO-8601 */
  applied_at: string;
}

export interface OrdersTable {
  id: Generated<number>;
  reservation_id: string;
  /** ISO-8601 */
  created_at: string;
}

export interface OrderDetailsTable {
  id: Generated<number>;
  order_id: number;
  product_id: string;
  /** bigint */
  price_cents: number;
  quantity: number;
}

/** Kept by the triggers of migration 002 (products, orders). */
export interface RowCountsTable {
  name: 'products' | 'orders';
  /** bigint */
  n: number;
}

export interface ShopDB {
  products: ProductsTable;
  stock_holds: StockHoldsTable;
  stock_applied: StockAppliedTable;
  orders: OrdersTable;
  order_details: OrderDetailsTable;
  row_counts: RowCountsTable;
}

export type ShopDatabase = Kysely<ShopDB>;
