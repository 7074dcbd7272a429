// The one behaviour every products store must show (run by sql-store.test.ts and redis-store.test.ts as subtests).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { Product } from '../contract.ts';
import type { ProductStore } from '../products/store.ts';

interface StoreHarness {
  store: ProductStore;
  /** Runs store.applyOrderCreated in a transaction, as the kernel's consumer would. */
  apply(reservationId: string, lines: { product_id: string; quantity: number }[]): Promise<boolean>;
  /**
   * What the store itself still holds of product `id` — a row, a key, an index entry — read from the
   * database or Redis directly, not through the store; [] when nothing. get/list/the title filter
   * ignore a half-written product, so a test of "X never happens" must look here.
   */
  traces(id: string): Promise<string[]>;
  /** Stores an order of this reservation in the shop database, as the orders role does (its event not applied). */
  storeOrder(reservationId: string): Promise<void>;
}

const TTL = 60_000;
const airship = (id: string, over: Partial<Product> = {}): Product => ({
  id,
  title: `Airship ${id}`,
  passenger_capacity: 101,
  maximum_speed: 5,
  in_stock: 10,
  ...over,
});

export async function runStoreContract(t: TestContext, h: StoreHarness): Promise<void> {
  const { store } = h;
  const now = Date.now();
  const stockOf = async (id: string) => (await store.get(id))?.in_stock;

  await t.test('create, get, and a duplicate id refused', async () => {
    assert.equal(await store.create(airship('the_odyssey')), true);
    assert.deepEqual(await store.get('the_odyssey'), airship('the_odyssey'));
    assert.equal(await store.create(airship('the_odyssey', { title: 'Other' })), false);
    assert.equal((await store.get('the_odyssey'))?.title, 'Airship the_odyssey');
    assert.equal(await store.get('nope'), undefined);
  });

  await t.test('getMany returns only the named products that exist', async () => {
    await store.create(airship('gm-a'));
    await store.create(airship('gm-b'));
    const got = await store.getMany(['gm-b', 'missing', 'gm-a', 'gm-b']);
    assert.deepEqual(got.map((p) => p.id).sort(), ['gm-a', 'gm-b']);
    assert.deepEqual(await store.getMany([]), []);
  });

  await t.test('list pages through every product once, in id order, with the total', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `list-${String(i).padStart(2, '0')}`);
    await store.seed(ids.map((id, i) => airship(id, { title: i % 3 === 0 ? `Zeppelin ${i}` : `Blimp 50%_off ${i}` })));
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    let total: number | null = 0;
    do {
      const page = await store.list({ limit: 10, after });
      seen.push(...page.items.map((p) => p.id));
      total = page.total;
      after = page.last;
      pages++;
    } while (after !== undefined && pages < 20);
    const expected = [...seen].sort();
    assert.deepEqual(seen, expected, 'byte order');
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    for (const id of ids) assert.ok(seen.includes(id), id);
    assert.equal(total, seen.length);
    assert.equal(pages, Math.ceil(seen.length / 10));
    const beyond = await store.list({ limit: 5, after: '~~~~' });
    assert.deepEqual(beyond.items, []);
    assert.equal(beyond.last, undefined);
  });

  /** Every item of a title filter, following the cursors from the start; and how many pages that took. */
  async function allWithTitle(title: string, limit: number, window?: number): Promise<{ ids: string[]; pages: number; shortWithMore: number }> {
    const ids: string[] = [];
    let after: string | undefined;
    let pages = 0;
    let shortWithMore = 0;
    do {
      const page = await store.list({ limit, title, after, window });
      assert.equal(page.total, null, 'no total with a title: counting the matches would read the catalogue');
      assert.ok(page.items.length <= limit);
      ids.push(...page.items.map((p) => p.id));
      if (page.last !== undefined && page.items.length < limit) shortWithMore++;
      after = page.last;
      pages++;
    } while (after !== undefined && pages < 1000);
    return { ids, pages, shortWithMore };
  }

  await t.test('list filters by title, case-insensitively, with % and _ taken literally', async () => {
    const zeppelins = ['list-00', 'list-03', 'list-06', 'list-09', 'list-12', 'list-15', 'list-18', 'list-21'];
    const zep = await store.list({ limit: 100, title: 'zEPPELIN' });
    assert.deepEqual(
      zep.items.map((p) => p.id),
      zeppelins,
    );
    assert.equal(zep.total, null);
    assert.equal(zep.last, undefined);
    const first = await store.list({ limit: 3, title: 'zeppelin' });
    assert.equal(first.last, 'list-06');
    const second = await store.list({ limit: 3, title: 'zeppelin', after: first.last });
    assert.deepEqual(
      second.items.map((p) => p.id),
      ['list-09', 'list-12', 'list-15'],
    );
    assert.deepEqual((await allWithTitle('zeppelin', 3)).ids, zeppelins);
    assert.equal((await store.list({ limit: 100, title: '50%_off' })).items.length, 15);
    // As wildcards these would match "Blimp"; taken literally they match nothing.
    assert.deepEqual((await store.list({ limit: 100, title: 'B%p' })).items, []);
    assert.deepEqual((await store.list({ limit: 100, title: 'l_mp' })).items, []);
  });

  await t.test('a title-filtered page reads at most its window of the index: short pages carry a cursor, and every match comes once', async () => {
    const catalogueSize = (await store.list({ limit: 1 })).total!;
    // A window of 5 ids: the 8 Zeppelins among the 23 list-* products come back over several, partly short, pages.
    const narrow = await allWithTitle('zeppelin', 3, 5);
    assert.deepEqual(narrow.ids, ['list-00', 'list-03', 'list-06', 'list-09', 'list-12', 'list-15', 'list-18', 'list-21']);
    assert.ok(narrow.shortWithMore > 0, 'some page stopped at its window');
    // Nothing matches: each page reads 5 ids and hands on a cursor, so the walk takes one page per 5 products.
    const none = await allWithTitle('no such airship', 10, 5);
    assert.deepEqual(none.ids, []);
    assert.ok(
      none.pages >= Math.ceil(catalogueSize / 5) && none.pages <= Math.ceil(catalogueSize / 5) + 1,
      `${none.pages} pages for ${catalogueSize} products`,
    );
  });

  await t.test('update changes only the named fields; a missing product stays missing', async () => {
    await store.create(airship('upd'));
    assert.deepEqual(await store.update('upd', { title: 'Renamed Hindenburg', in_stock: 3 }), airship('upd', { title: 'Renamed Hindenburg', in_stock: 3 }));
    assert.deepEqual(await store.get('upd'), airship('upd', { title: 'Renamed Hindenburg', in_stock: 3 }));
    assert.deepEqual(
      (await store.list({ limit: 10, title: 'hindenburg' })).items.map((p) => p.id),
      ['upd'],
    );
    assert.equal(await store.update('ghost', { in_stock: 1 }), undefined);
    assert.equal(await store.get('ghost'), undefined);
  });

  await t.test('delete removes the product from get, getMany, list and the title filter, and leaves nothing of it in the store', async () => {
    await store.create(airship('del-me', { title: 'Doomed Dirigible' }));
    assert.deepEqual((await store.reserve(randomUUID(), [{ product_id: 'del-me', quantity: 1 }], now, TTL)).ok, true);
    assert.ok((await h.traces('del-me')).length > 0, 'the probe sees a stored product');
    const before = (await store.list({ limit: 1 })).total!;
    assert.equal(await store.delete('del-me'), true);
    assert.equal(await store.get('del-me'), undefined);
    assert.deepEqual(await store.getMany(['del-me']), []);
    assert.equal((await store.list({ limit: 1 })).total, before - 1);
    assert.deepEqual((await store.list({ limit: 10, title: 'doomed' })).items, []);
    assert.deepEqual(await h.traces('del-me'), [], 'no row, key, index entry or hold is left');
    assert.equal(await store.delete('del-me'), false);
  });

  await t.test('holds() lists the holds on the products asked for, oldest expiry first; release takes them away', async () => {
    await store.create(airship('h-a', { in_stock: 5 }));
    await store.create(airship('h-b', { in_stock: 5 }));
    const [r1, r2] = [randomUUID(), randomUUID()];
    const lines = [
      { product_id: 'h-a', quantity: 2 },
      { product_id: 'h-b', quantity: 1 },
    ];
    assert.equal((await store.reserve(r2, [{ product_id: 'h-a', quantity: 1 }], now + 1000, TTL)).ok, true);
    assert.equal((await store.reserve(r1, lines, now, TTL)).ok, true);
    assert.deepEqual(await store.holds(['h-a']), [
      { reservation_id: r1, product_id: 'h-a', quantity: 2, expires_at: now + TTL },
      { reservation_id: r2, product_id: 'h-a', quantity: 1, expires_at: now + 1000 + TTL },
    ]);
    assert.deepEqual(await store.holds(['h-b', 'nope']), [{ reservation_id: r1, product_id: 'h-b', quantity: 1, expires_at: now + TTL }]);
    assert.equal(await store.release(r1), true);
    assert.deepEqual(
      (await store.holds(['h-a', 'h-b'])).map((h) => h.reservation_id),
      [r2],
    );
    assert.deepEqual(await store.holds([]), []);
  });

  await t.test('reserve holds stock all-or-nothing, counts other holds, answers the same reservation twice', async () => {
    await store.create(airship('r-a', { in_stock: 5 }));
    await store.create(airship('r-b', { in_stock: 2 }));
    const r1 = randomUUID();
    assert.deepEqual(
      await store.reserve(
        r1,
        [
          { product_id: 'r-a', quantity: 2 },
          { product_id: 'r-a', quantity: 1 },
        ],
        now,
        TTL,
      ),
      { ok: true },
    );
    assert.deepEqual(await store.reserve(r1, [{ product_id: 'r-a', quantity: 3 }], now, TTL), { ok: true }, 'idempotent');
    // 5 in stock, 3 held: 3 more is too many, 2 fits.
    assert.deepEqual(await store.reserve(randomUUID(), [{ product_id: 'r-a', quantity: 3 }], now, TTL), {
      ok: false,
      reason: 'out_of_stock',
      product_id: 'r-a',
      available: 2,
      requested: 3,
    });
    // All or nothing: r-a fits, r-b does not → nothing held on r-a either.
    const r2 = randomUUID();
    const failed = await store.reserve(
      r2,
      [
        { product_id: 'r-a', quantity: 2 },
        { product_id: 'r-b', quantity: 3 },
      ],
      now,
      TTL,
    );
    assert.equal(failed.ok, false);
    assert.deepEqual(await store.reserve(randomUUID(), [{ product_id: 'r-a', quantity: 2 }], now, TTL), { ok: true });
    assert.deepEqual(
      await store.reserve(
        randomUUID(),
        [
          { product_id: 'r-b', quantity: 1 },
          { product_id: 'nope', quantity: 1 },
        ],
        now,
        TTL,
      ),
      {
        ok: false,
        reason: 'not_found',
        product_id: 'nope',
      },
    );
    assert.equal(await stockOf('r-a'), 5, 'holds do not touch in_stock');
  });

  await t.test('expired holds stop counting; release frees a hold', async () => {
    await store.create(airship('exp', { in_stock: 4 }));
    assert.deepEqual(await store.reserve(randomUUID(), [{ product_id: 'exp', quantity: 4 }], now, 1000), { ok: true });
    assert.equal((await store.reserve(randomUUID(), [{ product_id: 'exp', quantity: 1 }], now + 500, TTL)).ok, false);
    const later = randomUUID();
    assert.deepEqual(await store.reserve(later, [{ product_id: 'exp', quantity: 4 }], now + 1001, TTL), { ok: true });
    assert.equal(await store.release(later), true);
    assert.equal(await store.release(later), false);
    assert.equal(await store.release(randomUUID()), false);
    assert.deepEqual(await store.reserve(randomUUID(), [{ product_id: 'exp', quantity: 4 }], now + 1001, TTL), { ok: true });
  });

  await t.test('a hold whose order was stored never expires: only reservations without an order do', async () => {
    await store.create(airship('outage', { in_stock: 10 }));
    // Six held by stored orders whose order_created waits in the outbox; three by a reservation whose order never came.
    const ordered = [randomUUID(), randomUUID()];
    for (const rid of ordered) {
      assert.deepEqual(await store.reserve(rid, [{ product_id: 'outage', quantity: 3 }], now, 1000), { ok: true });
      await h.storeOrder(rid);
    }
    const orphan = randomUUID();
    assert.deepEqual(await store.reserve(orphan, [{ product_id: 'outage', quantity: 3 }], now, 1000), { ok: true });
    // Long after every hold expired (the bus was down): the orphan's 3 are free again, the ordered 6 are not.
    assert.deepEqual(await store.reserve(randomUUID(), [{ product_id: 'outage', quantity: 5 }], now + 60_000, TTL), {
      ok: false,
      reason: 'out_of_stock',
      product_id: 'outage',
      available: 4,
      requested: 5,
    });
    assert.deepEqual(await store.reserve(randomUUID(), [{ product_id: 'outage', quantity: 4 }], now + 60_000, TTL), { ok: true });
    // Ten minutes on, the 4 (no order) expired too; the ordered 6 still count.
    assert.deepEqual(
      await store.reserve(randomUUID(), [{ product_id: 'outage', quantity: 5 }], now + 10 * 60_000, TTL),
      {
        ok: false,
        reason: 'out_of_stock',
        product_id: 'outage',
        available: 4,
        requested: 5,
      },
      'still held much later',
    );
    // The events arrive after the outage: stock 10 → 4, their holds go with them.
    for (const rid of ordered) assert.equal(await h.apply(rid, [{ product_id: 'outage', quantity: 3 }]), true);
    assert.equal(await stockOf('outage'), 4);
    assert.deepEqual(await store.reserve(randomUUID(), [{ product_id: 'outage', quantity: 4 }], now + 10 * 60_000, TTL), { ok: true });
    assert.equal((await store.reserve(randomUUID(), [{ product_id: 'outage', quantity: 1 }], now + 10 * 60_000, TTL)).ok, false, 'never oversold');
  });

  await t.test('order_created decrements once, drops the holds, and a replay changes nothing', async () => {
    await store.create(airship('ap', { in_stock: 10 }));
    const rid = randomUUID();
    assert.deepEqual(await store.reserve(rid, [{ product_id: 'ap', quantity: 4 }], now, TTL), { ok: true });
    assert.equal(await h.apply(rid, [{ product_id: 'ap', quantity: 4 }]), true);
    assert.equal(await stockOf('ap'), 6);
    assert.equal(await h.apply(rid, [{ product_id: 'ap', quantity: 4 }]), false);
    assert.equal(await stockOf('ap'), 6, 'replay changed nothing');
    // The hold went with the decrement: all 6 are available again.
    assert.deepEqual(await store.reserve(randomUUID(), [{ product_id: 'ap', quantity: 6 }], now, TTL), { ok: true });
    assert.deepEqual(await store.reserve(rid, [{ product_id: 'ap', quantity: 4 }], now, TTL), { ok: true }, 'an applied reservation is not taken twice');
  });

  await t.test('a late order_created never resurrects a deleted product, and never goes below zero', async () => {
    await store.create(airship('gone', { in_stock: 3 }));
    const rid = randomUUID();
    assert.deepEqual(await store.reserve(rid, [{ product_id: 'gone', quantity: 2 }], now, TTL), { ok: true });
    assert.equal(await store.delete('gone'), true);
    assert.deepEqual(await h.traces('gone'), []);
    assert.equal(await h.apply(rid, [{ product_id: 'gone', quantity: 2 }]), true);
    assert.equal(await store.get('gone'), undefined);
    assert.deepEqual((await store.list({ limit: 100, title: 'gone' })).items, []);
    // get and list skip a half-written product; the store itself must hold nothing of it (the nameko bug re-created a hash).
    assert.deepEqual(await h.traces('gone'), [], 'the late event re-created nothing');

    await store.create(airship('low', { in_stock: 5 }));
    const r2 = randomUUID();
    assert.deepEqual(await store.reserve(r2, [{ product_id: 'low', quantity: 4 }], now, TTL), { ok: true });
    await store.update('low', { in_stock: 1 }); // an operator corrected the count meanwhile
    await h.apply(r2, [{ product_id: 'low', quantity: 4 }]);
    assert.equal(await stockOf('low'), 0);
  });

  await t.test('50 concurrent reservations of 1 on a stock of 10: exactly 10 succeed', async () => {
    await store.create(airship('hot', { in_stock: 10 }));
    const results = await Promise.all(Array.from({ length: 50 }, () => store.reserve(randomUUID(), [{ product_id: 'hot', quantity: 1 }], Date.now(), TTL)));
    assert.equal(results.filter((r) => r.ok).length, 10);
    assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'out_of_stock'));
  });

  await t.test('racing multi-line reservations and their decrements, lines in any order: no deadlock, no oversell', async () => {
    await store.create(airship('m-1', { in_stock: 20 }));
    await store.create(airship('m-2', { in_stock: 20 }));
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const rid = randomUUID();
        const lines = [
          { product_id: 'm-1', quantity: 1 },
          { product_id: 'm-2', quantity: 1 },
        ];
        if (i % 2) lines.reverse();
        const r = await store.reserve(rid, lines, Date.now(), TTL);
        if (r.ok) await h.apply(rid, [...lines].reverse());
        return r.ok;
      }),
    );
    assert.equal(results.filter(Boolean).length, 20);
    assert.equal(await stockOf('m-1'), 0);
    assert.equal(await stockOf('m-2'), 0);
  });

  await t.test('seed inserts in bulk', async () => {
    const before = (await store.list({ limit: 1 })).total!;
    await store.seed(Array.from({ length: 2500 }, (_, i) => airship(`seed-${i}`)));
    assert.equal((await store.list({ limit: 1 })).total, before + 2500);
    assert.deepEqual(await store.get('seed-2499'), airship('seed-2499'));
  });
}
