// What shop.products shows on /console: stock per product and the holds on it (reserved by orders not yet applied).
// Read-only; holds are listed from SQL (with SHOP_PRODUCTS_STORE=redis they live in Redis and are counted there).
import type { ConsoleHook } from '../../../kernel/module.ts';
import type { ShopDatabase } from '../db.ts';
import type { ProductStore } from './store.ts';

const SHOWN = 100;

export function productsConsole(store: ProductStore, db: ShopDatabase, now: () => number): ConsoleHook {
  return {
    async panels() {
      const page = await store.list({ limit: SHOWN });
      const holds =
        store.kind === 'sql'
          ? await db.selectFrom('stock_holds').select(['reservation_id', 'product_id', 'quantity', 'expires_at']).orderBy('expires_at').limit(500).execute()
          : [];
      const t = now();
      const held = new Map<string, number>();
      for (const h of holds) if (h.expires_at > t) held.set(h.product_id, (held.get(h.product_id) ?? 0) + h.quantity);
      return [
        {
          title: 'Stock',
          note: `${page.total ?? page.items.length} products${page.last ? `; the first ${SHOWN} shown` : ''}. Held: live holds of orders whose order_created is not applied yet.`,
          columns: ['product', 'title', 'in stock', 'held', 'available'],
          rows: page.items.map((p) => {
            const h = store.kind === 'sql' ? (held.get(p.id) ?? 0) : null;
            return { cells: [{ text: p.id, href: `/products/${encodeURIComponent(p.id)}` }, p.title, p.in_stock, h, h === null ? null : p.in_stock - h] };
          }),
          chart: { column: 'in stock', unit: 'units' },
        },
        {
          title: 'Holds',
          note:
            store.kind === 'sql'
              ? 'Oldest expiry first; an expired hold of a stored order still counts until its event is applied.'
              : 'Kept in Redis (SHOP_PRODUCTS_STORE=redis): not listed here.',
          columns: ['reservation', 'product', 'quantity', 'expires'],
          rows: holds.map((h) => ({
            cells: [h.reservation_id, h.product_id, h.quantity, new Date(h.expires_at).toISOString()],
          })),
        },
      ];
    },
  };
}
