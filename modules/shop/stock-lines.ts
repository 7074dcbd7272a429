// Order lines as stock sees them: one line per product. The orders role merges before it reserves and
// publishes; the products stores merge again, because their facade may be called by any client.
import type { StockLine } from './contract.ts';

/** Sums the quantities of lines naming the same product, keeping first-seen order. */
export function mergeLines(lines: readonly StockLine[]): StockLine[] {
  const byId = new Map<string, number>();
  for (const l of lines) byId.set(l.product_id, (byId.get(l.product_id) ?? 0) + l.quantity);
  return [...byId].map(([product_id, quantity]) => ({ product_id, quantity }));
}
