// The shop keeps time by the kernel's clock (ctx.now), not the wall clock: with a fixed clock, an order's created_at and
// the applied order's stamp are that clock's time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApp } from '../../kernel/testing/index.ts';
import { airship, api, waitForStock } from './testing/index.ts';

const FIXED = '2031-02-03T04:05:06.789Z';

test('an order and its applied stock are stamped by ctx.now()', async () => {
  const app = await startTestApp({ env: { MODULES: 'shop', BUS_POLL_MS: '50' }, clock: () => new Date(FIXED) });
  try {
    const call = api(app.url);
    assert.equal((await call('POST', '/products', airship('clocked'))).status, 200);
    const created = await call('POST', '/orders', { order_details: [{ product_id: 'clocked', price: '1.00', quantity: 1 }] });
    assert.equal(created.status, 200, created.text);
    await waitForStock(call, 'clocked', 9);
    assert.equal((await call('GET', `/orders/${created.body.id}`)).body.created_at, FIXED);
    const applied = await app.kernel.databases.get('shop')!.db.selectFrom('stock_applied').select('applied_at').execute();
    assert.deepEqual(
      applied.map((r) => r.applied_at),
      [FIXED],
    );
  } finally {
    await app.close();
  }
});
