// The products store on the shop's SQL database (SQLite or Postgres): rows, stock holds, conditional decrements.
import { sql, type Selectable } from 'kysely';
import { dialectOf } from '../../../db/database.ts';
import { markers, sqlText, textPerCount, type Reader } from '../../../db/read.ts';
import type { CachedSqlite } from '../../../db/statement-cache.ts';
import type { Product, ProductPatch, StockLine } from '../contract.ts';
import type { ProductsTable, ShopDatabase } from '../db.ts';
import { mergeLines } from '../stock-lines.ts';
import { NO_STORED_ORDER } from './stored-orders.ts';
import { writeTransaction } from '../../../db/write-transaction.ts';
import { likePattern, TITLE_WINDOW, type ListQuery, type ProductPage, type ProductStore, type ReserveResult } from './store.ts';

const COLUMNS = ['id', 'title', 'passenger_capacity', 'maximum_speed', 'in_stock'] as const;
/** Bound parameters per statement stay far below SQLite's and Postgres' limits. */
const CHUNK = 500;

/** A row of COLUMNS as the contract's product (a copy: no column the store may add later leaks out). */
const toProduct = (r: Selectable<ProductsTable>): Product => ({
  id: r.id,
  title: r.title,
  passenger_capacity: r.passenger_capacity,
  maximum_speed: r.maximum_speed,
  in_stock: r.in_stock,
});

/** The reads by id, as SQL text (no query builder on those paths). */
const SELECT = `select ${COLUMNS.map((c) => `"${c}"`).join(', ')} from "products"`;
const SELECT_ONE = `${SELECT} where "id" = ?`;

/** The read by ids, one text per count of ids (at most CHUNK). */
const selectIn = textPerCount((n) => `${SELECT} where "id" in (${markers(n)})`);

// The writes of an order (reserve, applyOrderCreated) as SQL text: they run on every POST /orders (db/read.ts).
const STOCK = textPerCount((n) => `select "id", "in_stock" from "products" where "id" in (${markers(n)}) order by "id"`);
const STOCK_FOR_UPDATE = textPerCount((n) => `${STOCK(n)} for update`);
/** A row when this reservation is held already or was applied: the same reservation_id again answers the same. */
const RESERVED = `select 1 as "done" where exists (select 1 from "stock_holds" where "reservation_id" = ?)
  or exists (select 1 from "stock_applied" where "reservation_id" = ?)`;
const DELETE_EXPIRED = textPerCount((n) => `delete from "stock_holds" where "product_id" in (${markers(n)}) and "expires_at" <= ? and ${NO_STORED_ORDER}`);
const HELD = textPerCount(
  (n) => `select "product_id", sum("quantity") as "held" from "stock_holds" where "product_id" in (${markers(n)}) group by "product_id"`,
);
const INSERT_HOLDS = textPerCount(
  (n) => `insert into "stock_holds" ("reservation_id", "product_id", "quantity", "expires_at") values ${markers(n, '(?, ?, ?, ?)')}`,
);
const APPLY = `insert into "stock_applied" ("reservation_id", "applied_at") values (?, ?) on conflict ("reservation_id") do nothing`;
const TAKE_STOCK = `update "products" set "in_stock" = case when "in_stock" >= ? then "in_stock" - ? else 0 end where "id" = ?`;
const DROP_HOLDS = `delete from "stock_holds" where "reservation_id" = ?`;

/**
 * `now`: the clock applied orders are stamped with (the role's ctx.now); `read`: the role's ctx.read; `sqlite`: the
 * role's ctx.sqlite (SQLite only), on which the writes of an order run without the query builder (db/read.ts).
 */
export function createSqlStore(db: ShopDatabase, now: () => Date, read: Reader, sqlite?: CachedSqlite): ProductStore {
  const pg = dialectOf(db) === 'postgres';
  const text = sqlText(db, sqlite);
  const titleMatches = (title: string) => sql<boolean>`lower(title) like ${likePattern(title)} escape '\\'`;
  /** Kept by the triggers of migration 002: one row read. */
  const productCount = async () => (await db.selectFrom('row_counts').select('n').where('name', '=', 'products').executeTakeFirstOrThrow()).n;

  /** getMany's read of more than CHUNK ids, CHUNK at a time. */
  async function getChunked(unique: readonly string[]): Promise<Product[]> {
    const out: Product[] = [];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const chunk = unique.slice(i, i + CHUNK);
      out.push(...(await read.all<Product>(selectIn(chunk.length), chunk)));
    }
    return out;
  }

  return {
    kind: 'sql',

    async create(p) {
      const res = await db
        .insertInto('products')
        .values({ id: p.id, title: p.title, passenger_capacity: p.passenger_capacity, maximum_speed: p.maximum_speed, in_stock: p.in_stock })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    get(id) {
      // The SELECT names COLUMNS: the row is already the product.
      return read.first<Product>(SELECT_ONE, [id]);
    },

    getMany(ids) {
      // One id (a one-line order) needs no dedupe; the SELECT names COLUMNS, so its rows are already products.
      const unique = ids.length === 1 ? ids : [...new Set(ids)];
      if (!unique.length) return Promise.resolve([]);
      // Not an async function: returning the read's own promise saves the hops of adopting it (GET /orders/:id).
      return unique.length <= CHUNK ? read.all<Product>(selectIn(unique.length), unique) : getChunked(unique);
    },

    async list({ limit, after, title, window = TITLE_WINDOW }: ListQuery): Promise<ProductPage> {
      // Both reads walk the primary key from the cursor: the cost is the page (or the window), not the table.
      const fromCursor = () => db.selectFrom('products').$if(after !== undefined, (q) => q.where('id', '>', after!));
      if (!title) {
        const [rows, total] = await Promise.all([
          fromCursor()
            .select(COLUMNS)
            .orderBy('id')
            .limit(limit + 1)
            .execute(),
          productCount(),
        ]);
        const items = rows.slice(0, limit).map(toProduct);
        return { items, total, last: rows.length > limit ? items[items.length - 1].id : undefined };
      }
      // The next `window` ids in order, filtered; LIMIT limit + 1 tells whether the page is full with more to come.
      const scanned = fromCursor().select(COLUMNS).orderBy('id').limit(window);
      const rows = await db
        .selectFrom(scanned.as('w'))
        .select(COLUMNS)
        .where(titleMatches(title))
        .orderBy('id')
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit).map(toProduct);
      if (rows.length > limit) return { items, total: null, last: items[items.length - 1].id };
      // Short page: another may follow only when the window was full; it then goes on after the window's last id.
      const edge = await fromCursor()
        .select('id')
        .orderBy('id')
        .limit(1)
        .offset(window - 1)
        .executeTakeFirst();
      return { items, total: null, last: edge?.id };
    },

    async update(id, patch: ProductPatch) {
      const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      const row = await db.updateTable('products').set(set).where('id', '=', id).returning(COLUMNS).executeTakeFirst();
      return row && toProduct(row);
    },

    async delete(id) {
      // Product row first, then its holds: the order reserve() and applyOrderCreated() lock in, so no deadlock.
      return db.transaction().execute(async (trx) => {
        const res = await trx.deleteFrom('products').where('id', '=', id).executeTakeFirst();
        await trx.deleteFrom('stock_holds').where('product_id', '=', id).execute();
        return Number(res.numDeletedRows) === 1;
      });
    },

    async reserve(reservationId, requested, nowMs, ttlMs): Promise<ReserveResult> {
      const lines = mergeLines(requested);
      const ids = lines.map((l) => l.product_id);
      const n = ids.length;
      return writeTransaction(db, async (trx) => {
        // Lock first (Postgres: the product rows, in id order so two orders never deadlock), then decide.
        const stockRows = await text.all<{ id: string; in_stock: number }>(trx, (pg ? STOCK_FOR_UPDATE : STOCK)(n), ids);
        const stock = new Map(stockRows.map((r) => [r.id, r.in_stock]));
        if ((await text.all(trx, RESERVED, [reservationId, reservationId])).length) return { ok: true };

        for (const l of lines) if (!stock.has(l.product_id)) return { ok: false, reason: 'not_found', product_id: l.product_id };
        // Expired holds stop counting — unless their order was stored: its order_created may be waiting in the
        // outbox (a bus outage longer than the TTL) and the stock is sold until it is applied.
        await text.run(trx, DELETE_EXPIRED(n), [...ids, nowMs]);
        const heldRows = await text.all<{ product_id: string; held: number }>(trx, HELD(n), ids);
        const held = new Map(heldRows.map((r) => [r.product_id, r.held]));
        for (const l of lines) {
          const available = stock.get(l.product_id)! - (held.get(l.product_id) ?? 0);
          if (available < l.quantity) {
            return { ok: false, reason: 'out_of_stock', product_id: l.product_id, available: Math.max(0, available), requested: l.quantity };
          }
        }
        const expiresAt = nowMs + ttlMs;
        await text.run(
          trx,
          INSERT_HOLDS(n),
          lines.flatMap((l) => [reservationId, l.product_id, l.quantity, expiresAt]),
        );
        return { ok: true };
      });
    },

    async release(reservationId) {
      const res = await db.deleteFrom('stock_holds').where('reservation_id', '=', reservationId).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    },

    async holds(productIds) {
      if (!productIds.length) return [];
      return db
        .selectFrom('stock_holds')
        .select(['reservation_id', 'product_id', 'quantity', 'expires_at'])
        .where('product_id', 'in', [...productIds])
        .orderBy('expires_at')
        .execute();
    },

    async applyOrderCreated(reservationId, requested: readonly StockLine[], trx) {
      // Rows locked in id order, as reserve() locks them (Postgres would otherwise see a deadlock now and then).
      const lines = mergeLines(requested).sort((a, b) => (a.product_id < b.product_id ? -1 : a.product_id > b.product_id ? 1 : 0));
      if ((await text.run(trx, APPLY, [reservationId, now().toISOString()])) === 0) return false;
      // An UPDATE of a deleted product matches no row: nothing comes back to life. Clamped, never negative.
      for (const l of lines) await text.run(trx, TAKE_STOCK, [l.quantity, l.quantity, l.product_id]);
      await text.run(trx, DROP_HOLDS, [reservationId]);
      return true;
    },

    async seed(products) {
      const rows = products.map((p) => ({
        id: p.id,
        title: p.title,
        passenger_capacity: p.passenger_capacity,
        maximum_speed: p.maximum_speed,
        in_stock: p.in_stock,
      }));
      // 5 columns × 500 rows per INSERT; one transaction so SQLite syncs once.
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += CHUNK)
          await trx
            .insertInto('products')
            .values(rows.slice(i, i + CHUNK))
            .execute();
      });
    },

    async clear() {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('stock_holds').execute();
        await trx.deleteFrom('products').execute();
      });
    },

    async ping() {
      return true;
    },

    async close() {},
  };
}
