// What the products role needs from a store; the SQL and Redis stores both pass testing/store-contract.ts.
import type { Transaction } from 'kysely';
import type { Product, ProductPatch, StockLine } from '../contract.ts';
import type { ShopDB } from '../db.ts';

/**
 * Most products of the id index one title-filtered page reads, from its cursor on. A page therefore costs
 * the same at any catalogue size, and may come back short — even empty — with a next cursor (docs/shop.md).
 */
export const TITLE_WINDOW = 1000;

export interface ListQuery {
  limit: number;
  /** Exclusive: the last id of the previous page. */
  after?: string;
  /** Case-insensitive substring of the title. */
  title?: string;
  /** With `title`: how many ids of the index this page may read (default TITLE_WINDOW; tests make it small). */
  window?: number;
}

export interface ProductPage {
  items: Product[];
  /** Every product (a maintained count, not a scan); null with a title filter, whose count would read the catalogue. */
  total: number | null;
  /** Set when another page may follow: the last id this page covered (an item's, or the end of its window). */
  last?: string;
}

export type ReserveResult =
  | { ok: true }
  | { ok: false; reason: 'not_found'; product_id: string }
  | { ok: false; reason: 'out_of_stock'; product_id: string; available: number; requested: number };

/** Stock an order reserved and its order_created has not yet taken; `expires_at` is Infinity once the order is stored. */
export interface Hold {
  reservation_id: string;
  product_id: string;
  quantity: number;
  expires_at: number;
}

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
   * A hold past its expiry stops counting only when its reservation has no stored order (the orders
   * table says so): a stored order's order_created may still wait in an outbox (a bus outage longer
   * than the TTL), and until it is applied its stock is sold.
   */
  reserve(reservationId: string, lines: readonly StockLine[], nowMs: number, ttlMs: number): Promise<ReserveResult>;
  /** Drops a reservation's holds; false when it had none. */
  release(reservationId: string): Promise<boolean>;
  /** The holds on these products (expired ones too, until released or applied), oldest expiry first: for /console. */
  holds(productIds: readonly string[]): Promise<Hold[]>;
  /**
   * Applies an order_created: decrements each existing product (never below zero, never re-creating a
   * deleted one) and drops the reservation's holds — once per reservation; false when already applied.
   * `trx` is the consumer transaction the kernel opened (the SQL store writes in it).
   */
  applyOrderCreated(reservationId: string, lines: readonly StockLine[], trx: Transaction<ShopDB>): Promise<boolean>;
  /** Bulk insert for the seed hook (ids must be new). */
  seed(products: readonly Product[]): Promise<void>;
  /** Deletes every product and every hold: the seed hook replaces the catalogue. */
  clear(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** LIKE pattern for a case-insensitive substring match, with % _ \ escaped. */
export const likePattern = (title: string) => `%${title.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
