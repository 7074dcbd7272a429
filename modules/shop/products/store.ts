// What the products role needs from a store; the SQL and Redis stores both pass store-contract.ts.
import type { Kysely } from 'kysely';
import type { Product, ProductPatch, StockLine } from '../contract.ts';

export interface ListQuery {
  limit: number;
  /** Exclusive: the last id of the previous page. */
  after?: string;
  /** Case-insensitive substring of the title. */
  title?: string;
}

export interface ProductPage {
  items: Product[];
  /** Products matching the filter, over all pages. */
  total: number;
  /** Set when another page follows: the last id of this one. */
  last?: string;
}

export type ReserveResult =
  | { ok: true }
  | { ok: false; reason: 'not_found'; product_id: string }
  | { ok: false; reason: 'out_of_stock'; product_id: string; available: number; requested: number };

export interface ProductStore {
  readonly kind: 'sql' | 'redis';
  /** false when the id is taken. */
  create(product: Product): Promise<boolean>;
  get(id: string): Promise<Product | undefined>;
  /** One round trip however many ids; missing ids are left out. */
  getMany(ids: readonly string[]): Promise<Product[]>;
  list(query: ListQuery): Promise<ProductPage>;
  update(id: string, patch: ProductPatch): Promise<Product | undefined>;
  /** Also drops the product's holds; false when there was no such product. */
  delete(id: string): Promise<boolean>;
  /**
   * Atomically, for every (merged) line: in_stock − live holds ≥ quantity, then a hold per line
   * expiring at nowMs + ttlMs. All or nothing; an existing reservation_id answers ok again.
   */
  reserve(reservationId: string, lines: readonly StockLine[], nowMs: number, ttlMs: number): Promise<ReserveResult>;
  /** Drops a reservation's holds; false when it had none. */
  release(reservationId: string): Promise<boolean>;
  /**
   * Applies an order_created: decrements each existing product (never below zero, never re-creating a
   * deleted one) and drops the reservation's holds — once per reservation; false when already applied.
   * `trx` is the consumer transaction the kernel opened (the SQL store writes in it).
   */
  applyOrderCreated(reservationId: string, lines: readonly StockLine[], trx: Kysely<any>): Promise<boolean>;
  /** Bulk insert for seeding benchmarks (ids must be new). */
  seed(products: readonly Product[]): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** LIKE pattern for a case-insensitive substring match, with % _ \ escaped. */
export const likePattern = (title: string) => `%${title.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
