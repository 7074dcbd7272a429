// The products store on the shop's SQL database (SQLite or Postgres): rows, stock holds, conditional decrements.
import { sql, type Selectable } from 'kysely';
import { dialectOf } from '../../../db/database.ts';
import type { Reader } from '../../../db/read.ts';
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

/** The read by ids, one text per count of ids (at most CHUNK). */
const byCount: string[] = [];
const selectIn = (n: number) => (byCount[n] ??= `${SELECT} where "id" in (${Array(n).fill('?').join(', ')})`);

/** `now`: the clock applied orders are stamped with (the role's ctx.now); `read`: the role's ctx.read. */
export function createSqlStore(db: ShopDatabase, now: () => Date, read: Reader): ProductStore {
  const pg = dialectOf(db) === 'postgres';
  const titleMatches = (title: string) => sql<boolean>`lower(title) like ${likePattern(title)} escape '\\'`;
  /** Kept by the triggers of migration 002: one row read. */
  const productCount = async () => (await db.selectFrom('row_counts').select('n').where('name', '=', 'products').executeTakeFirstOrThrow()).n;

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

    async get(id) {
      const row = await read.first<Selectable<ProductsTable>>(`${SELECT} where "id" = ?`, [id]);
      return row && toProduct(row);
    },

    async getMany(ids) {
      const unique = [...new Set(ids)];
      const out: Product[] = [];
      for (let i = 0; i < unique.length; i += CHUNK) {
        const chunk = unique.slice(i, i + CHUNK);
        const rows = await read.all<Selectable<ProductsTable>>(selectIn(chunk.length), chunk);
        out.push(...rows.map(toProduct));
      }
      return out;
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
      return writeTransaction(db, async (trx) => {
        // Lock first (Postgres: the product rows, in id order so two orders never deadlock), then decide.
        let stockQuery = trx.selectFrom('products').select(['id', 'in_stock']).where('id', 'in', ids).orderBy('id');
        if (pg) stockQuery = stockQuery.forUpdate();
        const stock = new Map((await stockQuery.execute()).map((r) => [r.id, r.in_stock]));
        const held1 = await trx.selectFrom('stock_holds').select('product_id').where('reservation_id', '=', reservationId).limit(1).executeTakeFirst();
        const applied = held1
          ? undefined
          : await trx.selectFrom('stock_applied').select('reservation_id').where('reservation_id', '=', reservationId).executeTakeFirst();
        if (held1 || applied) return { ok: true };

        for (const l of lines) if (!stock.has(l.product_id)) return { ok: false, reason: 'not_found', product_id: l.product_id };
        // Expired holds stop counting — unless their order was stored: its order_created may be waiting in the
        // outbox (a bus outage longer than the TTL) and the stock is sold until it is applied.
        await trx.deleteFrom('stock_holds').where('product_id', 'in', ids).where('expires_at', '<=', nowMs).where(sql.raw<boolean>(NO_STORED_ORDER)).execute();
        const heldRows = await trx
          .selectFrom('stock_holds')
          .select((eb) => ['product_id', eb.fn.sum<number>('quantity').as('held')])
          .where('product_id', 'in', ids)
          .groupBy('product_id')
          .execute();
        const held = new Map(heldRows.map((r) => [r.product_id, r.held]));
        for (const l of lines) {
          const available = stock.get(l.product_id)! - (held.get(l.product_id) ?? 0);
          if (available < l.quantity) {
            return { ok: false, reason: 'out_of_stock', product_id: l.product_id, available: Math.max(0, available), requested: l.quantity };
          }
        }
        await trx
          .insertInto('stock_holds')
          .values(lines.map((l) => ({ reservation_id: reservationId, product_id: l.product_id, quantity: l.quantity, expires_at: nowMs + ttlMs })))
          .execute();
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
      const first = await trx
        .insertInto('stock_applied')
        .values({ reservation_id: reservationId, applied_at: now().toISOString() })
        .onConflict((oc) => oc.column('reservation_id').doNothing())
        .executeTakeFirst();
      if (Number(first.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      for (const l of lines) {
        // An UPDATE of a deleted product matches no row: nothing comes back to life. Clamped, never negative.
        await trx
          .updateTable('products')
          .set({ in_stock: sql`case when in_stock >= ${l.quantity} then in_stock - ${l.quantity} else 0 end` })
          .where('id', '=', l.product_id)
          .execute();
      }
      await trx.deleteFrom('stock_holds').where('reservation_id', '=', reservationId).execute();
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
