// `npm run smoke -- shop <url>` as the CLI runs it: passes against a live app (twice: re-runnable) and against the
// two roles run apart (a URL each), fails with a non-zero exit otherwise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, gate, ROOT } from '../../kernel/testing/index.ts';
import { SETUPS, spawnSplitShop, startShop } from './testing/index.ts';

function runSmoke(...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'kernel/cli.ts'), 'smoke', 'shop', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH },
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    proc.once('exit', (code) => resolve({ code, out }));
  });
}

test('smoke passes against a running shop, and again on the same data', async () => {
  const app = await startShop(SETUPS[0]);
  try {
    const first = await runSmoke(app.url);
    assert.equal(first.code, 0, first.out);
    for (const step of [
      '=== Creating a product id: the_odyssey ===',
      '=== Getting product id: the_odyssey ===',
      '=== Creating Order ===',
      '=== Getting Order ===',
      '=== Listing Orders ===',
      '=== Deleting product id: the_odyssey ===',
      'smoke shop: all steps passed',
    ]) {
      assert.ok(first.out.includes(step), `missing "${step}" in:\n${first.out}`);
    }
    await app.api('POST', '/products', { id: 'the_odyssey', title: 'Left over', passenger_capacity: 1, maximum_speed: 1, in_stock: 1 });
    const second = await runSmoke(app.url);
    assert.equal(second.code, 0, second.out);
    assert.ok(second.out.includes('exists from an earlier run'), second.out);
    assert.equal((await app.api('GET', '/orders')).body.total, 2);
  } finally {
    await app.close();
  }
});

test('smoke passes against the split layout, given a base URL per role', await gate('redis'), async () => {
  const split = await spawnSplitShop();
  try {
    const { code, out } = await runSmoke('--products', split.products.url, '--orders', `${split.orders.url}/`);
    assert.equal(code, 0, out);
    assert.ok(out.includes(`against products at ${split.products.url}, orders at ${split.orders.url}\n`), out);
    assert.ok(out.includes('smoke shop: all steps passed'), out);
    // Each role served its own paths: the product is gone from products, the order stayed with orders.
    assert.equal((await fetch(`${split.products.url}/products/the_odyssey`)).status, 404);
    assert.equal((await fetch(`${split.orders.url}/orders/1`)).status, 200);
  } finally {
    await split.stop();
  }
});

test('smoke exits non-zero when nothing answers', async () => {
  const result = await runSmoke(`http://127.0.0.1:${await freePort()}`);
  assert.notEqual(result.code, 0);
  assert.match(result.out, /no answer from/);
});
