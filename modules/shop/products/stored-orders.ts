// The one fact the products role reads of the orders' tables: which reservations have a stored order (their holds never expire).
import type { ShopDatabase } from '../db.ts';

/** Bound parameters per query, far below SQLite's and Postgres' limits. */
const CHUNK = 500;

/** The reservation ids among `ids` whose order is in the shop database (index orders_reservation). */
export async function storedReservations(db: ShopDatabase, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const rows = await db
      .selectFrom('orders')
      .select('reservation_id')
      .where('reservation_id', 'in', unique.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) found.add(r.reservation_id);
  }
  return found;
}

/** SQL: "this hold's reservation has no stored order", for a statement on `stock_holds`. */
export const NO_STORED_ORDER = 'not exists (select 1 from orders o where o.reservation_id = stock_holds.reservation_id)';
