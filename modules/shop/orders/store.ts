// Orders and their lines in the shop's SQL database; every read is by primary key or an indexed order_id.
import type { Reader } from '../../../db/read.ts';
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
  reservation_id: string;
  order_details: StoredLine[];
}

interface NewOrder {
  reservation_id: string;
  created_at: string;
  order_details: Omit<StoredLine, 'id'>[];
}

/** The read of GET /orders/:id, as SQL text (db/read.ts): no query builder on that path. */
const ORDER_WITH_LINES = `select o."created_at", o."reservation_id", d."id" as "line_id", d."product_id", d."price_cents", d."quantity"
  from "orders" o left join "order_details" d on d."order_id" = o."id" where o."id" = ? order by d."id"`;
type OrderRow = { created_at: string; reservation_id: string } & { [K in 'line_id' | 'price_cents' | 'quantity']: number | null } & {
  product_id: string | null;
};

/** `read`: the role's ctx.read. */
export function createOrderStore(db: ShopDatabase, read: Reader) {
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
      const row = await trx
        .insertInto('orders')
        .values({ reservation_id: order.reservation_id, created_at: order.created_at })
        .returning('id')
        .executeTakeFirstOrThrow();
      const { id } = row;
      await trx
        .insertInto('order_details')
        .values(order.order_details.map((d) => ({ order_id: id, product_id: d.product_id, price_cents: d.price_cents, quantity: d.quantity })))
        .execute();
      return id;
    },

    /** One statement: the order and its lines (none is a line of nulls). */
    async get(id: number): Promise<StoredOrder | undefined> {
      const rows = await read.all<OrderRow>(ORDER_WITH_LINES, [id]);
      if (!rows.length) return undefined;
      const { created_at, reservation_id } = rows[0];
      const order_details = rows
        .filter((r) => r.line_id !== null)
        .map((r) => ({ id: r.line_id!, product_id: r.product_id!, price_cents: r.price_cents!, quantity: r.quantity! }));
      return { id, created_at, reservation_id, order_details };
    },

    async list(limit: number, after?: number): Promise<{ orders: StoredOrder[]; total: number; last?: number }> {
      let q = db
        .selectFrom('orders')
        .select(['id', 'created_at', 'reservation_id'])
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
      const orders = page.map((r) => ({ id: r.id, created_at: r.created_at, reservation_id: r.reservation_id, order_details: lines.get(r.id)! }));
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
