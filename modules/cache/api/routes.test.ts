// The HTTP API in-process on the memory backend: the happy paths and every kind of bad input.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../../../kernel/testing/index.ts';
import { keyToPath } from './keys.ts';

describe('cache API (memory backend)', () => {
  let app: TestApp;
  const url = (key: string, query = '') => `${app.url}/config/${keyToPath(key)}${query}`;
  const put = (key: string, body: string, method = 'PUT') => fetch(url(key), { method, body, headers: { 'content-type': 'application/json' } });
  const errorOf = async (res: Response) => ({ status: res.status, ...(await res.json()) });

  before(async () => {
    app = await startTestApp({ env: { MODULES: 'cache', CACHE_MAX_VALUE_BYTES: String(1024 * 1024) } });
  });
  after(() => app?.close());

  test('PUT, GET (cached and fresh), overwrite, DELETE', async () => {
    const value = { host: 'db.internal', port: 5432, tags: ['a', null], nested: { ok: true } };
    const res = await put('team/db/url', JSON.stringify(value, null, 2));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual({ ...body, revision: typeof body.revision }, { key: 'team/db/url', value, revision: 'number' });

    for (const q of ['', '?use_cache=true', '?use_cache=false', '?use_cache=0']) {
      const got = await fetch(url('team/db/url', q));
      assert.equal(got.status, 200, q);
      assert.match(got.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(got.headers.get('x-cache-stale'), null);
      assert.equal(await got.text(), JSON.stringify(value), 'stored as compact JSON, served as stored');
    }

    assert.equal((await put('team/db/url', '"replaced"', 'POST')).status, 200, 'POST is an alias');
    assert.equal(await (await fetch(url('team/db/url'))).json(), 'replaced');

    const del = await fetch(url('team/db/url'), { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.equal(await del.text(), '');
    for (const q of ['', '?use_cache=false']) {
      assert.deepEqual(await errorOf(await fetch(url('team/db/url', q))), {
        status: 404,
        error: 'KEY_NOT_FOUND',
        message: 'No value is stored under key "team/db/url"',
      });
    }
    assert.equal((await fetch(url('team/db/url'), { method: 'DELETE' })).status, 404);
  });

  test('any JSON value round-trips, including scalars, null and unicode keys', async () => {
    for (const [key, json] of [
      ['n', '42'],
      ['s', '"text"'],
      ['null', 'null'],
      ['f', 'false'],
      ['arr', '[1,[2,{}]]'],
      ['ключ/ü 1', '"✓ \\u0001"'],
    ]) {
      assert.equal((await put(key, json)).status, 200, key);
      assert.equal(await (await fetch(url(key))).text(), json, key);
    }
    // %2F in the path is a slash in the key.
    assert.equal(await (await fetch(`${app.url}/config/a%2Fb`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '1' })).status, 200);
    assert.equal(await (await fetch(`${app.url}/config/a/b?use_cache=false`)).text(), '1');
  });

  test('bad keys answer 400 INVALID_KEY and store nothing', async () => {
    const before = await (await fetch(`${app.url}/config?limit=1000`)).json();
    for (const path of ['/config/a//b', '/config/a/', '/config/%zz', '/config/x%01y', '/config/a%7F', '/config/', `/config/${'k'.repeat(513)}`]) {
      for (const method of ['PUT', 'POST', 'GET', 'DELETE']) {
        if (method === 'GET' && path === '/config/') continue; // that is the list
        const res = await fetch(app.url + path, { method, body: method === 'PUT' || method === 'POST' ? '1' : undefined });
        const err = await errorOf(res);
        assert.equal(err.status, 400, `${method} ${path}`);
        assert.equal(err.error, 'INVALID_KEY', `${method} ${path}`);
      }
    }
    // fetch() resolves dot segments (even %2E%2E) before sending; a raw request does not.
    for (const path of ['/config/%2E%2E/x', '/config/a/./b']) {
      const status = await new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(app.url);
        const req = request({ hostname, port, path, method: 'PUT' }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject).end('1');
      });
      assert.equal(status, 400, path);
    }
    assert.equal((await put('k'.repeat(512), '1')).status, 200, 'a 512-byte key is fine');
    await fetch(url('k'.repeat(512)), { method: 'DELETE' });
    assert.deepEqual(await (await fetch(`${app.url}/config?limit=1000`)).json(), before);
  });

  test('bodies that are not JSON answer 400 BAD_REQUEST and store nothing', async () => {
    for (const body of ['', '   ', '{', 'not json', "{'a':1}", '[1,]', 'undefined']) {
      const err = await errorOf(await put('bad-body', body));
      assert.equal(err.status, 400, JSON.stringify(body));
      assert.equal(err.error, 'BAD_REQUEST', JSON.stringify(body));
    }
    assert.equal((await fetch(url('bad-body', '?use_cache=false'))).status, 404);
  });

  test('a value of exactly 1 MiB is accepted; one byte more is 413; nothing is stored', async () => {
    const exact = JSON.stringify('x'.repeat(1024 * 1024 - 2));
    assert.equal(Buffer.byteLength(exact), 1024 * 1024);
    const ok = await put('big', exact);
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    assert.equal((await (await fetch(url('big'))).text()).length, exact.length);

    const over = JSON.stringify('x'.repeat(1024 * 1024 - 1));
    const err = await errorOf(await put('big', over));
    assert.deepEqual([err.status, err.error], [413, 'VALUE_TOO_LARGE']);
    const huge = await errorOf(await put('big', JSON.stringify('y'.repeat(3 * 1024 * 1024))));
    assert.deepEqual([huge.status, huge.error], [413, 'PAYLOAD_TOO_LARGE']);
    assert.equal((await (await fetch(url('big'))).text()).length, exact.length, 'the old value is untouched');
  });

  test('use_cache must be a boolean', async () => {
    const err = await errorOf(await fetch(url('n', '?use_cache=maybe')));
    assert.deepEqual([err.status, err.error], [400, 'VALIDATION_ERROR']);
  });

  test('GET /config lists keys in byte order with prefix, limit and cursor', async () => {
    for (const k of ['list/b', 'list/a', 'list/c/d', 'list/é', 'listx']) await put(k, '0');
    const page = async (q: string) => (await fetch(`${app.url}/config?${q}`)).json();
    assert.deepEqual(await page('prefix=list/'), { keys: ['list/a', 'list/b', 'list/c/d', 'list/é'], next_cursor: null });
    const first = await page('prefix=list/&limit=3');
    assert.deepEqual(first.keys, ['list/a', 'list/b', 'list/c/d']);
    assert.deepEqual(await page(`prefix=list/&limit=3&cursor=${first.next_cursor}`), { keys: ['list/é'], next_cursor: null });
    assert.deepEqual((await page('prefix=list/&use_cache=false&limit=2')).keys, ['list/a', 'list/b']);
    const notAKey = Buffer.from(JSON.stringify('a//b')).toString('base64url');
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'cursor=nope', `cursor=${notAKey}`, 'prefix=%01']) {
      const err = await errorOf(await fetch(`${app.url}/config?${q}`));
      assert.equal(err.status, 400, q);
      assert.equal(err.error, 'VALIDATION_ERROR', q);
    }
  });

  test('the routes are in /openapi.json', async () => {
    const doc = await (await fetch(`${app.url}/openapi.json`)).json();
    assert.ok(doc.paths['/config/{key}']?.put && doc.paths['/config/{key}']?.get && doc.paths['/config/{key}']?.delete);
    assert.ok(doc.paths['/config']?.get);
  });
});
