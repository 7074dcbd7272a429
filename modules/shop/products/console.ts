// What shop.products shows on /console: stock per product and the holds on it (reserved by orders not yet applied).
// Read-only, through the store (SQL or Redis alike).
import type { ConsoleHook } from '../../../kernel/module.ts';
import type { ProductStore } from './store.ts';

const SHOWN = 100;

export function productsConsole(store: ProductStore, now: () => number): ConsoleHook {
  return {
    async panels() {
      const page = await store.list({ limit: SHOWN });
      const holds = await store.holds(page.items.map((p) => p.id));
      const t = now();
      const held = new Map<string, number>();
      for (const h of holds) if (h.expires_at > t) held.set(h.product_id, (held.get(h.product_id) ?? 0) + h.quantity);
      return [
        {
          title: 'Stock',
          note: `${page.total ?? page.items.length} products${page.last ? `; the first ${SHOWN} shown` : ''}. Held: live holds of orders whose order_created is not applied yet.`,
          columns: ['product', 'title', 'in stock', 'held', 'available'],
          rows: page.items.map((p) => {
            const h = held.get(p.id) ?? 0;
            return { cells: [{ text: p.id, href: `/products/${encodeURIComponent(p.id)}` }, p.title, p.in_stock, h, p.in_stock - h] };
          }),
          chart: { column: 'in stock', unit: 'units' },
        },
        {
          title: 'Holds',
          note: `On the products above, oldest expiry first (${store.kind === 'sql' ? 'the stock_holds table' : 'Redis'}); an expired hold of a stored order still counts until its event is applied.`,
          columns: ['reservation', 'product', 'quantity', 'expires'],
          rows: holds.map((h) => ({
            cells: [
              h.reservation_id,
              h.product_id,
              h.quantity,
              Number.isFinite(h.expires_at) ? new Date(h.expires_at).toISOString() : 'when its order_created is applied',
            ],
          })),
        },
      ];
    },
  };
}
