// /products over HTTP on every products store: create, get, list with cursor and title, patch, delete, and their errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gate } from '../../../kernel/testing/index.ts';
import { airship, SETUPS, startShop } from '../testing/index.ts';

for (const setup of SETUPS) {
  test(`products over HTTP (${setup.name})`, await gate(...setup.needs), async (t) => {
    const app = await startShop(setup);
    const { api } = app;
    try {
      await t.test('POST creates, GET reads back, a duplicate id is 409', async () => {
        assert.deepEqual(await api('POST', '/products', airship('the_odyssey')).then((r) => [r.status, r.body]), [200, { id: 'the_odyssey' }]);
        const got = await api('GET', '/products/the_odyssey');
        assert.equal(got.status, 200);
        assert.deepEqual(got.body, airship('the_odyssey'));
        const dup = await api('POST', '/products', airship('the_odyssey', { title: 'Impostor' }));
        assert.equal(dup.status, 409);
        assert.deepEqual(dup.body, { error: 'PRODUCT_ALREADY_EXISTS', message: 'Product ID the_odyssey already exists' });
        assert.equal((await api('GET', '/products/the_odyssey')).body.title, 'Airship the_odyssey', 'not overwritten');
      });

      await t.test('GET of a missing product is the original 404 body', async () => {
        const r = await api('GET', '/products/nope');
        assert.equal(r.status, 404);
        assert.deepEqual(r.body, { error: 'PRODUCT_NOT_FOUND', message: 'Product ID nope does not exist' });
      });

      await t.test('GET /products pages in id order with an opaque cursor, a total and a title filter (no total with a title)', async () => {
        for (const [id, title] of [
          ['p-a', 'Zephyr One'],
          ['p-b', 'Blimp'],
          ['p-c', 'zephyr two'],
          ['p-d', 'Hindenburg'],
          ['p-e', 'ZEPHYR three'],
        ]) {
          assert.equal((await api('POST', '/products', airship(id, { title }))).status, 200);
        }
        const ids: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const r: any = await api('GET', `/products?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
          assert.equal(r.status, 200);
          assert.equal(r.body.total, 6);
          ids.push(...r.body.items.map((p: { id: string }) => p.id));
          cursor = r.body.next_cursor;
          pages++;
        } while (cursor && pages < 10);
        assert.deepEqual(ids, ['p-a', 'p-b', 'p-c', 'p-d', 'p-e', 'the_odyssey']);
        assert.equal(pages, 3);

        const zephyrs = await api('GET', '/products?title=ZePhYr&limit=2');
        assert.deepEqual(
          zephyrs.body.items.map((p: { id: string }) => p.id),
          ['p-a', 'p-c'],
        );
        assert.equal(zephyrs.body.total, null);
        const rest = await api('GET', `/products?title=zephyr&limit=2&cursor=${zephyrs.body.next_cursor}`);
        assert.deepEqual(
          rest.body.items.map((p: { id: string }) => p.id),
          ['p-e'],
        );
        assert.equal(rest.body.next_cursor, null);
        assert.equal(rest.body.total, null);
        const def = await api('GET', '/products');
        assert.equal(def.body.items.length, 6, 'default limit 20 covers all');
      });

      await t.test('PATCH changes the named fields only; the id cannot change', async () => {
        const r = await api('PATCH', '/products/p-b', { in_stock: 3, title: 'Blimp Mk II' });
        assert.equal(r.status, 200);
        assert.deepEqual(r.body, airship('p-b', { title: 'Blimp Mk II', in_stock: 3 }));
        assert.deepEqual((await api('GET', '/products/p-b')).body, r.body);
        const idChange = await api('PATCH', '/products/p-b', { id: 'other' });
        assert.equal(idChange.status, 400);
        assert.equal(idChange.body.error, 'VALIDATION_ERROR');
        const missing = await api('PATCH', '/products/ghost', { in_stock: 1 });
        assert.equal(missing.status, 404);
        assert.deepEqual(missing.body, { error: 'PRODUCT_NOT_FOUND', message: 'Product ID ghost does not exist' });
        assert.equal((await api('GET', '/products/ghost')).status, 404, 'PATCH does not create');
      });

      await t.test('DELETE is 204 with no body, then 404', async () => {
        const r = await api('DELETE', '/products/p-d');
        assert.equal(r.status, 204);
        assert.equal(r.text, '');
        assert.equal((await api('GET', '/products/p-d')).status, 404);
        const again = await api('DELETE', '/products/p-d');
        assert.equal(again.status, 404);
        assert.deepEqual(again.body, { error: 'PRODUCT_NOT_FOUND', message: 'Product ID p-d does not exist' });
        assert.equal((await api('GET', '/products')).body.total, 5);
      });
    } finally {
      await app.close();
    }
  });
}
