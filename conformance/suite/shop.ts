// The shop's promises through its public API: stock exact under parallel orders, each order taking stock once, and a
// deleted product staying deleted. Stock moves through the order_created event, so the checks wait for it to settle.
import { type Answer, call, eventually, expect, parallel, sleep, unique } from './http.ts';
import type { Check, Deployment, ModuleSuite } from './types.ts';

async function createProduct(d: Deployment, id: string, inStock: number): Promise<void> {
  const product = { id, title: `Conformance ${id}`, passenger_capacity: 12, maximum_speed: 80, in_stock: inStock };
  const created = await call(d.gateway, 'POST', '/products', product);
  expect(created.status === 200 && created.body?.id === id, `POST /products ${id} → 200 {"id"}`, created);
}

const order = (d: Deployment, productId: string): Promise<Answer> =>
  call(d.gateway, 'POST', '/orders', { order_details: [{ product_id: productId, price: '25.00', quantity: 1 }] });

const getProduct = (d: Deployment, id: string): Promise<Answer> => call(d.gateway, 'GET', `/products/${id}`);

/** Waits until the product's in_stock is `stock`, then checks it is still `stock` a while later (no late or second decrement). */
async function stockSettlesAt(d: Deployment, id: string, stock: number): Promise<void> {
  await eventually(
    `in_stock of ${id} to reach ${stock}`,
    () => getProduct(d, id),
    (p) => p.status === 200 && p.body.in_stock === stock,
    15_000,
  );
  await sleep(1500);
  const later = await getProduct(d, id);
  expect(later.status === 200 && later.body.in_stock === stock, `in_stock of ${id} to stay ${stock}`, later);
}

const stockExactUnderParallelOrders: Check = {
  name: '50 parallel orders for a stock of 30: exactly 30 accepted, the rest OUT_OF_STOCK, stock ends at 0',
  async run(d) {
    const id = unique('stock');
    await createProduct(d, id, 30);
    const answers = await parallel(50, () => order(d, id));

    const accepted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 409 && a.body?.error === 'OUT_OF_STOCK');
    const other = answers.find((a) => !accepted.includes(a) && !refused.includes(a));
    expect(other === undefined, 'every order answered 200 or 409 OUT_OF_STOCK', other);
    expect(accepted.length === 30, '30 orders accepted of 50', `${accepted.length} accepted, ${refused.length} refused`);
    expect(
      new Set(accepted.map((a) => a.body?.id)).size === 30,
      '30 distinct order ids',
      accepted.map((a) => a.body?.id),
    );

    await stockSettlesAt(d, id, 0);
    const oneMore = await order(d, id);
    expect(oneMore.status === 409 && oneMore.body?.error === 'OUT_OF_STOCK', 'one more order → 409 OUT_OF_STOCK', oneMore);
  },
};

const eachOrderTakesStockOnce: Check = {
  name: '20 parallel orders from a stock of 50: all accepted, stock settles at exactly 30 and stays there',
  async run(d) {
    // A stock that does not run out shows a decrement lost or applied twice (at 0 the update clamps and hides it).
    const id = unique('stock-once');
    await createProduct(d, id, 50);
    const answers = await parallel(20, () => order(d, id));
    const refused = answers.find((a) => a.status !== 200);
    expect(refused === undefined, 'all 20 orders → 200', refused);

    await stockSettlesAt(d, id, 30);
    const rendered = await parallel(answers.length, (i) => call(d.gateway, 'GET', `/orders/${answers[i].body.id}`));
    const wrong = rendered.find((o) => o.status !== 200 || o.body?.order_details?.[0]?.product_id !== id || o.body.order_details[0].quantity !== 1);
    expect(wrong === undefined, `each order → 200 with its line (${id} × 1)`, wrong);
  },
};

const deletedStaysDeleted: Check = {
  name: 'a deleted product stays deleted: 404, orders refused, no late event brings it back',
  async run(d) {
    const id = unique('deleted');
    await createProduct(d, id, 5);
    // An order just before the delete: its order_created may be applied after the delete, and must not re-create it.
    const ordered = await order(d, id);
    expect(ordered.status === 200, 'an order before the delete → 200', ordered);
    const deleted = await call(d.gateway, 'DELETE', `/products/${id}`);
    expect(deleted.status === 204, `DELETE /products/${id} → 204`, deleted);

    const gone = await getProduct(d, id);
    expect(gone.status === 404 && gone.body?.error === 'PRODUCT_NOT_FOUND', `GET /products/${id} → 404 PRODUCT_NOT_FOUND`, gone);
    const refused = await order(d, id);
    expect(refused.status === 404 && refused.body?.error === 'PRODUCT_NOT_FOUND', 'an order of the deleted product → 404 PRODUCT_NOT_FOUND', refused);

    await sleep(2000); // time for the order's event, and any second delivery of it
    const later = await getProduct(d, id);
    expect(later.status === 404, `GET /products/${id} 2 s later → still 404`, later);
    const laterOrder = await order(d, id);
    expect(laterOrder.status === 404, 'an order 2 s later → still 404', laterOrder);
    const deletedAgain = await call(d.gateway, 'DELETE', `/products/${id}`);
    expect(deletedAgain.status === 404, 'a second DELETE → 404', deletedAgain);
    const earlier = await call(d.gateway, 'GET', `/orders/${ordered.body.id}`);
    expect(earlier.status === 200 && earlier.body?.order_details?.[0]?.product === null, 'the earlier order → 200, its product null', earlier);
  },
};

/** order_created events one process's consumers applied so far, from its /metrics. */
async function appliedOrderEvents(base: string): Promise<number> {
  const metrics = await call(base, 'GET', '/metrics');
  const line = /^cantons_bus_events_handled_total\{[^}]*topic="shop\.order_created"[^}]*\} (\d+)$/gm;
  return [...metrics.text.matchAll(line)].reduce((sum, m) => sum + Number(m[1]), 0);
}

const replicasShareTheEvents: Check = {
  name: 'replicated products: the consumer group shares order_created, each event applied once in all',
  appliesTo: (d) => (d.instances('shop.products').length > 1 ? true : 'one products process'),
  async run(d) {
    const replicas = d.instances('shop.products');
    const before = await Promise.all(replicas.map(appliedOrderEvents));
    const id = unique('shared');
    await createProduct(d, id, 100);
    const answers = await parallel(40, () => order(d, id));
    expect(
      answers.every((a) => a.status === 200),
      'all 40 orders → 200',
      answers.find((a) => a.status !== 200),
    );
    await stockSettlesAt(d, id, 60);
    const applied = (await Promise.all(replicas.map(appliedOrderEvents))).map((n, i) => n - before[i]);
    expect(applied.reduce((a, b) => a + b, 0) === 40, '40 order_created applied across the replicas', applied);
    expect(
      applied.every((n) => n > 0),
      'each replica applied some of them',
      applied,
    );
  },
};

export const shop: ModuleSuite = {
  module: 'shop',
  checks: [stockExactUnderParallelOrders, eachOrderTakesStockOnce, deletedStaysDeleted, replicasShareTheEvents],
  async load(d) {
    const id = unique('load');
    await createProduct(d, id, 1000);
    return () => ({ method: 'GET', path: `/products/${id}` });
  },
};
