// The contract every cache backend meets, run against the in-memory one and the etcd one.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { CacheBackend } from '../api/backend.ts';
import { waitFor } from '../../../kernel/testing/index.ts';

/** `make` returns a started backend with an empty keyspace of its own. */
export function backendContract(name: string, make: () => Promise<CacheBackend>, gated: { skip?: string } = {}): void {
  describe(`cache backend contract: ${name}`, gated, () => {
    // Closed after each test too (once), so that a failed assertion leaves no watch keeping the process alive.
    const open: CacheBackend[] = [];
    afterEach(async () => {
      for (const b of open.splice(0)) await b.close();
    });
    const started = async () => {
      const b = await make();
      const close = b.close.bind(b);
      let closed: Promise<void> | undefined;
      b.close = () => (closed ??= close());
      open.push(b);
      // Ready is listed; the watch connects a moment later, and until it does a cached read says stale.
      await waitFor('backend ready, its watch live', () => b.ready() && !b.getCached('').stale);
      return b;
    };

    test('a put is read back, cached and fresh, with its revision', async () => {
      const b = await started();
      const e = await b.put('team/db/url', '{"host":"db","port":5432}');
      assert.equal(e.json, '{"host":"db","port":5432}');
      assert.ok(e.revision > 0);
      assert.deepEqual(b.getCached('team/db/url'), { entry: e, stale: false });
      assert.deepEqual(await b.getFresh('team/db/url'), e);
      assert.equal(b.size(), 1);
      await b.close();
    });

    test('overwrites move the revision forward and the latest value wins', async () => {
      const b = await started();
      const first = await b.put('k', '1');
      const second = await b.put('k', '"two"');
      assert.ok(second.revision > first.revision);
      assert.equal(b.getCached('k').entry?.json, '"two"');
      assert.equal((await b.getFresh('k'))?.json, '"two"');
      assert.equal(b.size(), 1);
      await b.close();
    });

    test('delete reports a revision once, then the key is absent everywhere', async () => {
      const b = await started();
      const put = await b.put('k', 'null');
      const rev = await b.delete('k');
      // At once: any further call to the backend would give its copy time to learn the delete another way.
      assert.equal(b.getCached('k').entry, undefined);
      assert.ok(rev !== undefined && rev > put.revision);
      assert.equal(await b.delete('k'), undefined);
      assert.equal(await b.getFresh('k'), undefined);
      assert.equal(await b.delete('never-was'), undefined);
      assert.equal(b.size(), 0);
      // A key can come back after a delete.
      await b.put('k', 'true');
      assert.equal(b.getCached('k').entry?.json, 'true');
      await b.close();
    });

    for (const fresh of [false, true]) {
      test(`list (fresh=${fresh}): byte order, prefix, pages`, async () => {
        const b = await started();
        for (const k of ['b', 'a/2', 'a/1', 'é', 'a/10', 'ab', 'c']) await b.put(k, '0');
        await b.delete('c');
        const all = await b.list({ prefix: '', limit: 100, fresh });
        assert.deepEqual(all.keys, ['a/1', 'a/10', 'a/2', 'ab', 'b', 'é']);
        assert.equal(all.lastKey, undefined);
        const pages: string[][] = [];
        let after: string | undefined;
        do {
          const page = await b.list({ prefix: 'a', limit: 2, after, fresh });
          pages.push(page.keys);
          after = page.lastKey;
        } while (after !== undefined);
        assert.deepEqual(pages, [
          ['a/1', 'a/10'],
          ['a/2', 'ab'],
        ]);
        assert.deepEqual((await b.list({ prefix: 'a/', limit: 10, fresh })).keys, ['a/1', 'a/10', 'a/2']);
        assert.deepEqual((await b.list({ prefix: 'zzz', limit: 10, fresh })).keys, []);
        // A cursor from another prefix never leaks keys outside the asked prefix.
        assert.deepEqual((await b.list({ prefix: 'b', limit: 10, after: 'a', fresh })).keys, ['b']);
        await b.close();
      });
    }

    test('values are kept byte for byte (unicode, large)', async () => {
      const b = await started();
      const big = JSON.stringify('é'.repeat(300_000));
      await b.put('big', big);
      await b.put('emoji', '"\u{1F600}\\u0000"');
      assert.equal((await b.getFresh('big'))?.json, big);
      assert.equal(b.getCached('emoji').entry?.json, '"\u{1F600}\\u0000"');
      await b.close();
    });
  });
}
