// `npm run smoke -- shop [base-url] [--products url --orders url]`: the original smoke test (product, get, order,
// get order) plus list orders and delete, against one instance or the two roles run apart.
import { fetchAnswer, type Answer } from '../../kernel/smoke.ts';

/** What the smoke reads of an answer's JSON; any of it may be missing, which is what the checks look for. */
interface Reply {
  id?: unknown;
  error?: string;
  items?: unknown;
  total?: number;
  order_details?: Array<{ price?: string; quantity?: number; product_id?: string; image?: unknown; product?: { id?: string } | null }>;
}

export async function shopSmoke(baseUrl: string, print: (line: string) => void, roleUrls: Record<string, string> = {}): Promise<void> {
  const products = roleUrls.products ?? baseUrl;
  const orders = roleUrls.orders ?? baseUrl;
  // Each path belongs to one role: /products… to products, /orders… to orders.
  function call(method: string, path: string, body?: unknown): Promise<Answer> {
    return fetchAnswer(`${path.startsWith('/orders') ? orders : products}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  }

  async function step(title: string, method: string, path: string, body: unknown, expect: number, check?: (b: Reply) => string | undefined): Promise<Reply> {
    print(`=== ${title} ===`);
    const answer = await call(method, path, body);
    print(`${method} ${path} → ${answer.status}${answer.text ? ` ${answer.text}` : ''}`);
    if (answer.status !== expect) throw new Error(`${title}: expected HTTP ${expect}, got ${answer.status} ${JSON.stringify(answer.body)}`);
    const problem = check?.(answer.body);
    if (problem) throw new Error(`${title}: ${problem}`);
    return answer.body;
  }

  const product = { id: 'the_odyssey', title: 'The Odyssey', passenger_capacity: 101, maximum_speed: 5, in_stock: 10 };
  print(`shop smoke test against ${products === orders ? baseUrl : `products at ${products}, orders at ${orders}`}`);
  // Re-runnable: a product left by an earlier run is deleted and created again.
  print('=== Creating a product id: the_odyssey ===');
  const first = await call('POST', '/products', product);
  print(`POST /products → ${first.status} ${JSON.stringify(first.body)}`);
  if (first.status === 409) {
    await step('the_odyssey exists from an earlier run: deleting it', 'DELETE', '/products/the_odyssey', undefined, 204);
    await step('Creating a product id: the_odyssey', 'POST', '/products', product, 200, (b) => (b?.id === 'the_odyssey' ? undefined : 'no id in answer'));
  } else if (first.status !== 200 || first.body?.id !== 'the_odyssey') {
    throw new Error(`Creating a product: expected HTTP 200 with the id, got ${first.status} ${JSON.stringify(first.body)}`);
  }
  await step('Getting product id: the_odyssey', 'GET', '/products/the_odyssey', undefined, 200, (b) =>
    JSON.stringify(b) === JSON.stringify(product) ? undefined : `expected ${JSON.stringify(product)}`,
  );
  const order = await step(
    'Creating Order',
    'POST',
    '/orders',
    { order_details: [{ product_id: 'the_odyssey', price: '100000.99', quantity: 1 }] },
    200,
    (b) => (Number.isInteger(b?.id) ? undefined : 'no integer id in answer'),
  );
  const checkOrder = (productExpected: boolean) => (b: Reply) => {
    const line = b?.order_details?.[0];
    if (b?.id !== order.id || !line) return 'order or its line missing';
    if (line.price !== '100000.99' || line.quantity !== 1 || line.product_id !== 'the_odyssey') return 'line differs from what was ordered';
    if (!String(line.image).endsWith('/the_odyssey.jpg')) return 'image URL missing';
    if (productExpected && line.product?.id !== 'the_odyssey') return 'product not rendered';
    if (!productExpected && line.product !== null) return 'a deleted product should render as null';
    return undefined;
  };
  await step('Getting Order', 'GET', `/orders/${order.id}`, undefined, 200, checkOrder(true));
  await step('Listing Orders', 'GET', '/orders?limit=5', undefined, 200, (b) =>
    Array.isArray(b?.items) && (b.total ?? 0) >= 1 ? undefined : 'expected at least one order',
  );
  await step('Deleting product id: the_odyssey', 'DELETE', '/products/the_odyssey', undefined, 204);
  await step('Getting the deleted product', 'GET', '/products/the_odyssey', undefined, 404, (b) =>
    b?.error === 'PRODUCT_NOT_FOUND' ? undefined : 'expected PRODUCT_NOT_FOUND',
  );
  await step('Getting Order after its product was deleted', 'GET', `/orders/${order.id}`, undefined, 200, checkOrder(false));
}
