// The order use cases: reserve stock, store the order and its order_created event in one transaction, render with products.
import type { Facade } from '../../../kernel/contract.ts';
import { errors } from '../../../kernel/errors.ts';
import { timeOrderedId } from '../../../db/ids.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { Publisher } from '../../../kernel/bus/types.ts';
import { MAX_QUANTITY, ORDER_CREATED, type OrderCreated, type Product, type productsContract } from '../contract.ts';
import type { ShopDatabase } from '../db.ts';
import { shopErrors } from '../errors.ts';
import { mergeLines } from '../stock-lines.ts';
import { writeTransaction } from '../../../db/write-transaction.ts';
import { centsToPrice, priceToCents } from './money.ts';
import type { OrderStore, StoredOrder } from './store.ts';

const GET_MANY_MAX = 1000;

interface OrderLineInput {
  product_id: string;
  price: string;
  quantity: number;
}

interface RenderedOrder {
  id: number;
  created_at: string;
  order_details: Array<{ id: number; product_id: string; price: string; quantity: number; image: string; product: Product | null }>;
}

interface OrderServiceDeps {
  db: ShopDatabase;
  store: OrderStore;
  products: Facade<typeof productsContract>;
  bus: Pick<Publisher, 'publish'>;
  log: Logger;
  imageRoot: string;
  /** SHOP_HOLD_TTL_MS: an order not stored within half of it is refused (its holds may expire meanwhile). */
  holdTtlMs: number;
  /** The role's ctx.now: an order's created_at. */
  now: () => Date;
  /** Monotonic ms (tests move it). */
  clock?: () => number;
}

export function createOrderService(deps: OrderServiceDeps) {
  const { db, store, products, bus, log } = deps;
  const { now } = deps;
  const clock = deps.clock ?? (() => performance.now());

  const imagePrefix = `${deps.imageRoot}/`;

  /** Fetches exactly the products these orders name, in one getMany call: never the catalogue. */
  async function render(orders: StoredOrder[]): Promise<RenderedOrder[]> {
    const distinct = new Set<string>();
    for (const o of orders) for (const d of o.order_details) distinct.add(d.product_id);
    const ids = [...distinct];
    const byId = new Map<string, Product>();
    // One call for a single order (≤ 100 lines); a page of orders may need a few.
    for (let i = 0; i < ids.length; i += GET_MANY_MAX) {
      const { products: found } = await products.getMany({ ids: ids.length > GET_MANY_MAX ? ids.slice(i, i + GET_MANY_MAX) : ids });
      for (const p of found) byId.set(p.id, p);
    }
    return orders.map((o) => ({
      id: o.id,
      created_at: o.created_at,
      order_details: o.order_details.map((d) => ({
        id: d.id,
        product_id: d.product_id,
        price: centsToPrice(d.price_cents),
        quantity: d.quantity,
        image: `${imagePrefix}${d.product_id}.jpg`,
        // A product deleted since the order was placed: the line still renders.
        product: byId.get(d.product_id) ?? null,
      })),
    }));
  }

  return {
    async create(lines: OrderLineInput[]): Promise<number> {
      const stock = mergeLines(lines);
      const tooMany = stock.find((l) => l.quantity > MAX_QUANTITY);
      if (tooMany) {
        const message = `order_details: lines for ${tooMany.product_id} add up to ${tooMany.quantity}, more than ${MAX_QUANTITY}`;
        throw errors.VALIDATION_ERROR(`Invalid body: ${message}`, [{ field: 'order_details', message }]);
      }
      const reservationId = timeOrderedId();
      // Before the reserve call: its holds were made after this moment, so they are younger than the elapsed time.
      const started = clock();
      await products.reserve({ reservation_id: reservationId, lines: stock });
      try {
        // Group-committed (db/write-transaction.ts): the orders of one moment share a commit, and one refused below
        // undoes only itself. Its commit follows the check by at most that batch's own work.
        return await writeTransaction(db, async (trx: ShopDatabase) => {
          const id = await store.insert(trx, {
            reservation_id: reservationId,
            created_at: now().toISOString(),
            order_details: lines.map((l) => ({ product_id: l.product_id, price_cents: priceToCents(l.price), quantity: l.quantity })),
          });
          const event: OrderCreated = { order_id: id, reservation_id: reservationId, lines: stock };
          await bus.publish(trx, ORDER_CREATED, event);
          // A hold whose order is stored never expires, but a hold may be judged expired-without-order just
          // before this commit: an order this late is refused (rolled back, holds released) rather than risk that.
          const elapsed = clock() - started;
          if (elapsed > deps.holdTtlMs / 2) {
            throw errors.SERVICE_UNAVAILABLE(
              `The order could not be stored in time (${Math.round(elapsed)} ms after its stock was held); nothing was ordered, retry`,
            );
          }
          return id;
        });
      } catch (err) {
        // The order was not stored: give the stock back now rather than when the hold expires.
        await products
          .release({ reservation_id: reservationId })
          .catch((e) => log.warn({ err: e, reservationId }, 'release after a failed order insert failed; the hold will expire'));
        throw err;
      }
    },

    async get(id: number): Promise<RenderedOrder> {
      const order = await store.get(id);
      if (!order) throw shopErrors.ORDER_NOT_FOUND(`Order with id ${id} not found`);
      return (await render([order]))[0];
    },

    async list(limit: number, after?: number): Promise<{ items: RenderedOrder[]; total: number; last?: number }> {
      const page = await store.list(limit, after);
      return { items: await render(page.orders), total: page.total, last: page.last };
    },

    async delete(id: number): Promise<void> {
      if (!(await store.delete(id))) throw shopErrors.ORDER_NOT_FOUND(`Order with id ${id} not found`);
    },
  };
}

export type OrderService = ReturnType<typeof createOrderService>;
