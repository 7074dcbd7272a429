// Bad input on every shop endpoint: a 4xx with {"error","message"} naming the field, and nothing stored or changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gate } from '../../kernel/testing/index.ts';
import { airship, SETUPS, startShop } from './testing/index.ts';

type Case = [method: string, path: string, body: unknown, status: number, code: string, mentions?: string];
const RAW = Symbol('raw');
const raw = (text: string) => ({ [RAW]: text });
const line = (over: Record<string, unknown> = {}) => ({ product_id: 'the_odyssey', price: '10.00', quantity: 1, ...over });
const order = (over: Record<string, unknown> = {}) => ({ order_details: [line(over)] });

const CASES: Case[] = [
  // POST /products
  ['POST', '/products', raw('{"id": "x", '), 400, 'BAD_REQUEST'],
  ['POST', '/products', raw('not json'), 400, 'BAD_REQUEST'],
  ['POST', '/products', raw(''), 400, 'BAD_REQUEST'],
  ['POST', '/products', raw('null'), 400, 'VALIDATION_ERROR'],
  ['POST', '/products', [airship('arr')], 400, 'VALIDATION_ERROR'],
  ['POST', '/products', { ...airship('m1'), title: undefined }, 400, 'VALIDATION_ERROR', 'title'],
  ['POST', '/products', { ...airship('m2'), in_stock: undefined }, 400, 'VALIDATION_ERROR', 'in_stock'],
  ['POST', '/products', { ...airship('x1'), colour: 'red' }, 400, 'VALIDATION_ERROR', 'colour'],
  ['POST', '/products', airship('t1', { in_stock: '10' as never }), 400, 'VALIDATION_ERROR', 'in_stock'],
  ['POST', '/products', airship('t2', { passenger_capacity: 1.5 }), 400, 'VALIDATION_ERROR', 'passenger_capacity'],
  ['POST', '/products', airship('t3', { maximum_speed: -1 }), 400, 'VALIDATION_ERROR', 'maximum_speed'],
  ['POST', '/products', airship('t4', { in_stock: 1e12 }), 400, 'VALIDATION_ERROR', 'in_stock'],
  ['POST', '/products', airship('t5', { in_stock: null as never }), 400, 'VALIDATION_ERROR', 'in_stock'],
  ['POST', '/products', airship('t6', { title: '   ' }), 400, 'VALIDATION_ERROR', 'title'],
  ['POST', '/products', airship('t7', { title: 'x'.repeat(201) }), 400, 'VALIDATION_ERROR', 'title'],
  ['POST', '/products', airship(''), 400, 'VALIDATION_ERROR', 'id'],
  ['POST', '/products', airship('a/b'), 400, 'VALIDATION_ERROR', 'id'],
  ['POST', '/products', airship('has space'), 400, 'VALIDATION_ERROR', 'id'],
  ['POST', '/products', airship('x'.repeat(129)), 400, 'VALIDATION_ERROR', 'id'],
  ['POST', '/products', airship(7 as never), 400, 'VALIDATION_ERROR', 'id'],
  ['POST', '/products', raw(JSON.stringify({ ...airship('big'), title: 'x'.repeat(2 * 1024 * 1024) })), 413, 'PAYLOAD_TOO_LARGE'],
  // PATCH /products/:id
  ['PATCH', '/products/the_odyssey', {}, 400, 'VALIDATION_ERROR'],
  ['PATCH', '/products/the_odyssey', raw('{in_stock: 1}'), 400, 'BAD_REQUEST'],
  ['PATCH', '/products/the_odyssey', { in_stock: -1 }, 400, 'VALIDATION_ERROR', 'in_stock'],
  ['PATCH', '/products/the_odyssey', { in_stock: null }, 400, 'VALIDATION_ERROR', 'in_stock'],
  ['PATCH', '/products/the_odyssey', { title: 5 }, 400, 'VALIDATION_ERROR', 'title'],
  ['PATCH', '/products/the_odyssey', { in_stock: 1, extra: true }, 400, 'VALIDATION_ERROR', 'extra'],
  ['PATCH', '/products/the_odyssey', { id: 'renamed' }, 400, 'VALIDATION_ERROR', 'id'],
  // GET /products
  ['GET', '/products?limit=0', undefined, 400, 'VALIDATION_ERROR', 'limit'],
  ['GET', '/products?limit=101', undefined, 400, 'VALIDATION_ERROR', 'limit'],
  ['GET', '/products?limit=abc', undefined, 400, 'VALIDATION_ERROR', 'limit'],
  ['GET', '/products?limit=1.5', undefined, 400, 'VALIDATION_ERROR', 'limit'],
  ['GET', '/products?limit=1&limit=2', undefined, 400, 'VALIDATION_ERROR', 'limit'],
  ['GET', '/products?cursor=!!!', undefined, 400, 'VALIDATION_ERROR', 'cursor'],
  ['GET', '/products?title=', undefined, 400, 'VALIDATION_ERROR', 'title'],
  // POST /orders
  ['POST', '/orders', raw('{"order_details": ['), 400, 'BAD_REQUEST'],
  ['POST', '/orders', raw('[1, 2'), 400, 'BAD_REQUEST'],
  ['POST', '/orders', {}, 400, 'VALIDATION_ERROR', 'order_details'],
  ['POST', '/orders', { order_details: [] }, 400, 'VALIDATION_ERROR', 'order_details'],
  ['POST', '/orders', { order_details: line() }, 400, 'VALIDATION_ERROR', 'order_details'],
  ['POST', '/orders', { ...order(), note: 'x' }, 400, 'VALIDATION_ERROR', 'note'],
  ['POST', '/orders', order({ price: undefined }), 400, 'VALIDATION_ERROR', 'order_details.0.price'],
  ['POST', '/orders', order({ product_id: undefined }), 400, 'VALIDATION_ERROR', 'order_details.0.product_id'],
  ['POST', '/orders', order({ product_id: '' }), 400, 'VALIDATION_ERROR', 'order_details.0.product_id'],
  ['POST', '/orders', order({ discount: 1 }), 400, 'VALIDATION_ERROR', 'discount'],
  ['POST', '/orders', order({ price: 10.5 }), 400, 'VALIDATION_ERROR', 'order_details.0.price'],
  ['POST', '/orders', order({ price: '-1.00' }), 400, 'VALIDATION_ERROR', 'order_details.0.price'],
  ['POST', '/orders', order({ price: '1.234' }), 400, 'VALIDATION_ERROR', 'order_details.0.price'],
  ['POST', '/orders', order({ price: '1e3' }), 400, 'VALIDATION_ERROR', 'order_details.0.price'],
  ['POST', '/orders', order({ price: 'ten' }), 400, 'VALIDATION_ERROR', 'order_details.0.price'],
  ['POST', '/orders', order({ price: '' }), 400, 'VALIDATION_ERROR', 'order_details.0.price'],
  ['POST', '/orders', order({ price: '99999999999999.00' }), 400, 'VALIDATION_ERROR', 'order_details.0.price'],
  ['POST', '/orders', order({ quantity: 0 }), 400, 'VALIDATION_ERROR', 'order_details.0.quantity'],
  ['POST', '/orders', order({ quantity: -1 }), 400, 'VALIDATION_ERROR', 'order_details.0.quantity'],
  ['POST', '/orders', order({ quantity: 1.5 }), 400, 'VALIDATION_ERROR', 'order_details.0.quantity'],
  ['POST', '/orders', order({ quantity: '1' }), 400, 'VALIDATION_ERROR', 'order_details.0.quantity'],
  ['POST', '/orders', order({ quantity: 1_000_001 }), 400, 'VALIDATION_ERROR', 'order_details.0.quantity'],
  ['POST', '/orders', order({ quantity: 1e20 }), 400, 'VALIDATION_ERROR', 'order_details.0.quantity'],
  ['POST', '/orders', { order_details: [line({ quantity: 600_000 }), line({ quantity: 600_000 })] }, 400, 'VALIDATION_ERROR', 'order_details'],
  ['POST', '/orders', { order_details: Array.from({ length: 101 }, () => line()) }, 400, 'VALIDATION_ERROR', 'order_details'],
  // GET / DELETE /orders/:id, GET /orders
  ['GET', '/orders/abc', undefined, 400, 'VALIDATION_ERROR', 'id'],
  ['GET', '/orders/0', undefined, 400, 'VALIDATION_ERROR', 'id'],
  ['GET', '/orders/-1', undefined, 400, 'VALIDATION_ERROR', 'id'],
  ['GET', '/orders/1.5', undefined, 400, 'VALIDATION_ERROR', 'id'],
  ['GET', '/orders/1e3', undefined, 400, 'VALIDATION_ERROR', 'id'],
  ['DELETE', '/orders/abc', undefined, 400, 'VALIDATION_ERROR', 'id'],
  ['GET', '/orders?limit=-5', undefined, 400, 'VALIDATION_ERROR', 'limit'],
  ['GET', '/orders?cursor=zzz', undefined, 400, 'VALIDATION_ERROR', 'cursor'],
  ['GET', `/orders?cursor=${Buffer.from('abc').toString('base64url')}`, undefined, 400, 'VALIDATION_ERROR', 'cursor'],
];

for (const setup of SETUPS) {
  test(`bad input is refused and changes nothing (${setup.name})`, await gate(...setup.needs), async () => {
    const app = await startShop(setup);
    const { api } = app;
    try {
      await api('POST', '/products', airship('the_odyssey'));
      const productsBefore = (await api('GET', '/products?limit=100')).body;

      for (const [method, path, body, status, code, mentions] of CASES) {
        const payload = body && typeof body === 'object' && RAW in body ? { raw: (body as Record<symbol, string>)[RAW] } : {};
        const r = await api(method, path, RAW in Object(body) ? undefined : body, payload);
        const what = `${method} ${path} ${JSON.stringify(body)?.slice(0, 120)}`;
        assert.equal(r.status, status, `${what} → ${r.status} ${r.text.slice(0, 300)}`);
        assert.equal(r.body?.error, code, what);
        assert.equal(typeof r.body.message, 'string', what);
        assert.ok(r.body.message.length > 0, what);
        assert.ok(
          Object.keys(r.body).every((k) => ['error', 'message', 'details'].includes(k)),
          what,
        );
        if (mentions) assert.ok(r.body.message.includes(mentions), `${what}: message "${r.body.message}" should name ${mentions}`);
      }

      assert.deepEqual((await api('GET', '/products?limit=100')).body, productsBefore, 'no product created or changed');
      assert.equal((await api('GET', '/orders')).body.total, 0, 'no order stored');
      // Nothing held either: the whole stock can still be ordered.
      assert.equal((await api('POST', '/orders', order({ quantity: 10 }))).status, 200);
    } finally {
      await app.close();
    }
  });
}
