// Orders and their lines in the shop's SQL database; every read is by primary key or an indexed order_id.
import { markers, sqlText, textPerCount, type Reader } from '../../../db/read.ts';
import type { CachedSqlite } from '../../../db/statement-cache.ts';
import type { ShopDatabase } from '../db.ts';
import { writeTransaction } from '../../../db/write-transaction.ts';

interface StoredLine {
  id: number;
  product_id: string;
  price_cents: number;
  quantity: number;
}

export interface StoredOrder {
  id: number;
  created_at: string;
  order_details: StoredLine[];
}

interface NewOrder {
  reservation_id: string;
  created_at: string;
  order_details: Omit<StoredLine, 'id'>[];
}

/** The read of GET /orders/:id, as SQL text (db/read.ts): no query builder on that path. */
const ORDER_WITH_LINES = `select o."created_at", d."id" as "line_id", d."product_id", d."price_cents", d."quantity"
  from "orders" o left join "order_details" d on d."order_id" = o."id" where o."id" = ? order by d."id"`;
type OrderRow = { created_at: string } & { [K in 'line_id' | 'price_cents' | 'quantity']: number | null } & { product_id: string | null };

/** The writes of POST /orders, as SQL text (db/read.ts). */
const INSERT_ORDER = `insert into "orders" ("reservation_id", "created_at") values (?, ?) returning "id"`;
const INSERT_LINES = textPerCount(
  (n) => `insert into "order_details" ("order_id", "product_id", "price_cents", "quantity") values ${markers(n, '(?, ?, ?, ?)')}`,
);

/** `read`: the role's ctx.read; `sqlite`: its ctx.sqlite (SQLite only: the insert without the query builder, db/read.ts). */
export function createOrderStore(db: ShopDatabase, read: Reader, sqlite?: CachedSqlite) {
  const text = sqlText(db, sqlite);
  async function linesOf(ids: number[]): Promise<Map<number, StoredLine[]>> {
    const byOrder = new Map<number, StoredLine[]>(ids.map((id) => [id, []]));
    if (!ids.length) return byOrder;
    const rows = await db
      .selectFrom('order_details')
      .select(['id', 'order_id', 'product_id', 'price_cents', 'quantity'])
      .where('order_id', 'in', ids)
      .orderBy('id')
      .execute();
    for (const r of rows) {
      byOrder.get(r.order_id)?.push({ id: r.id, product_id: r.product_id, price_cents: r.price_cents, quantity: r.quantity });
    }
    return byOrder;
  }

  return {
    /** Inserts the order and its lines in `trx` (the caller's transaction, which also holds the outbox write). */
    async insert(trx: ShopDatabase, order: NewOrder): Promise<number> {
      const [{ id }] = await text.all<{ id: number }>(trx, INSERT_ORDER, [order.reservation_id, order.created_at]);
      const params: unknown[] = [];
      for (const d of order.order_details) params.push(id, d.product_id, d.price_cents, d.quantity);
      await text.run(trx, INSERT_LINES(order.order_details.length), params);
      return id;
    },

    /** One statement: the order and its lines (an order without lines is one row of nulls). */
    async get(id: number): Promise<StoredOrder | undefined> {
      const rows = await read.all<OrderRow>(ORDER_WITH_LINES, [id]);
      if (!rows.length) return undefined;
      const order_details: StoredLine[] = [];
      for (const r of rows) {
        if (r.line_id !== null) order_details.push({ id: r.line_id, product_id: r.product_id!, price_cents: r.price_cents!, quantity: r.quantity! });
      }
      return { id, created_at: rows[0].created_at, order_details };
    },

    async list(limit: number, after?: number): Promise<{ orders: StoredOrder[]; total: number; last?: number }> {
      let q = db
        .selectFrom('orders')
        .select(['id', 'created_at'])
        .orderBy('id')
        .limit(limit + 1);
      if (after !== undefined) q = q.where('id', '>', after);
      const [rows, count] = await Promise.all([
        q.execute(),
        // Kept by the triggers of migration 002: one row read, not a COUNT(*) of the table.
        db.selectFrom('row_counts').select('n').where('name', '=', 'orders').executeTakeFirstOrThrow(),
      ]);
      const page = rows.slice(0, limit);
      const lines = await linesOf(page.map((r) => r.id));
      const orders = page.map((r) => ({ id: r.id, created_at: r.created_at, order_details: lines.get(r.id)! }));
      return { orders, total: count.n, last: rows.length > limit ? orders[orders.length - 1].id : undefined };
    },

    async delete(id: number): Promise<boolean> {
      return writeTransaction(db, async (trx) => {
        await trx.deleteFrom('order_details').where('order_id', '=', id).execute();
        const res = await trx.deleteFrom('orders').where('id', '=', id).executeTakeFirst();
        return Number(res.numDeletedRows) === 1;
      });
    },
  };
}

export type OrderStore = ReturnType<typeof createOrderStore>;
