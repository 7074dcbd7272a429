// The cache on an etcd with mutual TLS and with auth: connects, refuses cleanly when credentials are wrong, survives token expiry, auth changes and restarts.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gate, startTestApp, tempDir, waitFor, type TestApp } from '../../kernel/testing/index.ts';
import { startEtcd, type EtcdServer } from '../../kernel/testing/etcd.ts';
import { startProxy, type TcpProxy } from './testing/proxy.ts';
import { createEtcdClient } from './api/etcd-client.ts';
import { Informer } from './api/informer.ts';
import { createLogger } from '../../kernel/logger.ts';

const withEtcd = await gate('etcd');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Short deadlines and backoff, so refusals answer fast and relists come back soon.
const FAST = { CACHE_ETCD_TIMEOUT_MS: '1000', CACHE_RESYNC_BASE_MS: '20', CACHE_RESYNC_MAX_MS: '300' };

const ready = async (app: TestApp) => (await fetch(`${app.url}/readyz`)).status === 200;
const waitReady = (app: TestApp) => waitFor('ready', () => ready(app), 10_000);
const put = (app: TestApp, key: string, value: unknown) =>
  fetch(`${app.url}/config/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
async function get(app: TestApp, key: string, useCache: boolean): Promise<{ status: number; body: unknown; stale: string | null }> {
  const res = await fetch(`${app.url}/config/${key}?use_cache=${useCache}`);
  return { status: res.status, body: await res.json(), stale: res.headers.get('x-cache-stale') };
}
/** Polls instance `app`'s cached copy until `key` holds `value` (default deadline: 500 ms). */
const seen = (app: TestApp, key: string, value: unknown, timeoutMs = 500) =>
  waitFor(
    `${key} = ${JSON.stringify(value)} in the cached copy`,
    async () => {
      const r = await get(app, key, true);
      return r.status === 200 && JSON.stringify(r.body) === JSON.stringify(value);
    },
    timeoutMs,
  );

/** An instance that cannot reach etcd: never ready, and every etcd-bound request is a clean 503. */
async function assertRefuses(app: TestApp): Promise<void> {
  // Long enough for several failed lists (backoff ≤ 300 ms): the loop keeps retrying without crashing.
  await sleep(1000);
  assert.equal((await fetch(`${app.url}/readyz`)).status, 503);
  for (const [method, path, body] of [
    ['PUT', '/config/a', '{"x":1}'],
    ['POST', '/config/b', '"v"'],
    ['DELETE', '/config/a', undefined],
    ['GET', '/config/a?use_cache=false', undefined],
    // Not ready: a cached read goes to etcd.
    ['GET', '/config/a', undefined],
    ['GET', '/config?use_cache=false', undefined],
  ] as const) {
    const t0 = Date.now();
    const res = await fetch(`${app.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body });
    const payload = await res.json();
    assert.equal(res.status, 503, `${method} ${path}: ${JSON.stringify(payload)}`);
    assert.equal(payload.error, 'CACHE_BACKEND_UNAVAILABLE');
    assert.equal(typeof payload.message, 'string');
    assert.ok(Date.now() - t0 < 5000, `${method} ${path} answered within the deadline`);
  }
  assert.equal((await fetch(`${app.url}/healthz`)).status, 200, 'the process itself is fine');
}

describe('cache on etcd with mutual TLS', withEtcd, () => {
  let etcd: EtcdServer;
  const apps: TestApp[] = [];
  const start = async (env: Record<string, string | undefined>, prefix: string) => {
    const app = await startTestApp({ env: { MODULES: 'cache', ETCD_URL: etcd.url, CACHE_KEY_PREFIX: `${prefix}-${process.pid}/`, ...FAST, ...env } });
    apps.push(app);
    return app;
  };

  before(async () => {
    etcd = await startEtcd({ tls: true });
  });
  after(async () => {
    for (const a of apps) await a.close();
    await etcd?.close();
  });

  test('with the CA and a client certificate: ready; PUT then GET cached and fresh round-trip', async () => {
    assert.match(etcd.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const { caFile, certFile, keyFile } = etcd.tls!;
    const a = await start({ ETCD_CA_FILE: caFile, ETCD_CERT_FILE: certFile, ETCD_KEY_FILE: keyFile }, 'tls');
    const b = await start({ ETCD_CA_FILE: caFile, ETCD_CERT_FILE: certFile, ETCD_KEY_FILE: keyFile }, 'tls');
    await waitReady(a);
    await waitReady(b);
    const res = await put(a, 'svc/db', { url: 'postgres://db', pool: 5 });
    assert.equal(res.status, 200);
    const { revision } = await res.json();
    for (const useCache of [true, false]) {
      assert.deepEqual(await get(a, 'svc/db', useCache), { status: 200, body: { url: 'postgres://db', pool: 5 }, stale: null });
    }
    await seen(b, 'svc/db', { url: 'postgres://db', pool: 5 });
    assert.deepEqual(await get(b, 'svc/db', false), { status: 200, body: { url: 'postgres://db', pool: 5 }, stale: null });
    // The write really is in the TLS etcd, under the prefix.
    const kv = await etcd.client().get(`tls-${process.pid}/svc/db`).string();
    assert.equal(kv, '{"url":"postgres://db","pool":5}');
    assert.ok(revision > 0);
  });

  test('without the CA file (server certificate not trusted): not ready, every etcd request a clean 503', async () => {
    const { certFile, keyFile } = etcd.tls!;
    await assertRefuses(await start({ ETCD_CERT_FILE: certFile, ETCD_KEY_FILE: keyFile }, 'tls-noca'));
  });

  test('without a client certificate (etcd requires one): not ready, every etcd request a clean 503', async () => {
    await assertRefuses(await start({ ETCD_CA_FILE: etcd.tls!.caFile }, 'tls-nocert'));
  });

  test('plain http:// against the TLS port: not ready, every etcd request a clean 503', async () => {
    await assertRefuses(await start({ ETCD_URL: etcd.url.replace('https:', 'http:') }, 'tls-plain'));
  });
});

// etcd's two token kinds: simple (opaque, held in etcd's memory, expire after the TTL unused, lost on a
// restart) and JWT (signed, expire TTL after issue, carry the auth revision they were issued at).
for (const tokens of ['simple', 'jwt'] as const) {
  describe(`cache on etcd with auth (${tokens} tokens)`, withEtcd, () => {
    const TTL_S = 2;
    const PREFIX = 'cantons-sec/';
    const password = 'cache-secret';
    let etcd: EtcdServer;
    const apps: TestApp[] = [];
    const proxies: TcpProxy[] = [];
    let n = 0;
    const prefix = (what: string) => `${PREFIX}${what}-${process.pid}-${n++}/`;
    const start = async (env: Record<string, string | undefined>, keyPrefix: string) => {
      const app = await startTestApp({ env: { MODULES: 'cache', ETCD_URL: etcd.url, CACHE_KEY_PREFIX: keyPrefix, ...FAST, ...env } });
      apps.push(app);
      return app;
    };
    const user = { ETCD_USERNAME: 'cache', ETCD_PASSWORD: password };
    /** Two ready instances on one prefix; `a` talks to etcd through a proxy that can cut its connections (and so its watch). */
    const pair = async (what: string) => {
      const p = prefix(what);
      const proxy = await startProxy({ host: '127.0.0.1', port: Number(new URL(etcd.url).port) });
      proxies.push(proxy);
      const a = await start({ ...user, ETCD_URL: proxy.url }, p);
      const b = await start(user, p);
      await waitReady(a);
      await waitReady(b);
      return { a, b, p, proxy };
    };
    const resyncs = async (app: TestApp) => Number(/^cantons_cache_resyncs_total (\d+)$/m.exec(await (await fetch(`${app.url}/metrics`)).text())?.[1]);
    /** Cuts `a`'s connections: its watch is lost; waits until it has listed and watches again. */
    const cutAndRelist = async (a: TestApp, proxy: TcpProxy) => {
      const before = await resyncs(a);
      proxy.cut();
      await waitFor('a relisted', async () => (await resyncs(a)) > before, 5000);
      await waitFor('a live again', async () => (await get(a, 'k', true)).stale === null, 10_000);
    };
    /** Requests through etcd's JSON gateway with a token of our own, to check what etcd makes of it. */
    const gateway = {
      token: async () =>
        (await (await fetch(`${etcd.url}/v3/auth/authenticate`, { method: 'POST', body: JSON.stringify({ name: 'cache', password }) })).json()).token as string,
      range: (token?: string) =>
        fetch(`${etcd.url}/v3/kv/range`, {
          method: 'POST',
          headers: token ? { authorization: token } : {},
          body: JSON.stringify({ key: Buffer.from(PREFIX).toString('base64') }),
        }),
    };

    before(async () => {
      etcd = await startEtcd({ auth: { users: [{ name: 'cache', password, prefix: PREFIX }], tokenTtlSeconds: TTL_S, tokens } });
    });
    after(async () => {
      for (const a of apps) await a.close();
      for (const p of proxies) await p.close();
      await etcd?.close();
    });

    test("etcd refuses requests without a token, accepts the user's (auth really is on)", async () => {
      const res = await gateway.range();
      assert.notEqual(res.status, 200);
      assert.match(await res.text(), /user name is empty|permission denied/);
      assert.equal((await gateway.range(await gateway.token())).status, 200);
    });

    test('user and password: PUT/GET round-trip; a second instance sees the write within 500 ms', async () => {
      const p = prefix('auth');
      const a = await start(user, p);
      const b = await start(user, p);
      await waitReady(a);
      await waitReady(b);
      assert.equal((await put(a, 'feature/flags', { beta: true })).status, 200);
      for (const useCache of [true, false]) {
        assert.deepEqual(await get(a, 'feature/flags', useCache), { status: 200, body: { beta: true }, stale: null });
      }
      await seen(b, 'feature/flags', { beta: true });
      assert.equal((await fetch(`${b.url}/config/feature/flags`, { method: 'DELETE' })).status, 204);
      await waitFor('delete seen on a', async () => (await get(a, 'feature/flags', true)).status === 404, 500);
    });

    test('ETCD_PASSWORD_FILE: the password read from a file (trailing newline ignored)', async () => {
      const file = join(tempDir(), 'etcd-password');
      writeFileSync(file, `${password}\n`, { mode: 0o600 });
      const p = prefix('file');
      const a = await start({ ETCD_USERNAME: 'cache', ETCD_PASSWORD_FILE: file }, p);
      const b = await start(user, p);
      await waitReady(a);
      await waitReady(b);
      assert.equal((await put(a, 'k', 'from a file')).status, 200);
      assert.deepEqual(await get(a, 'k', false), { status: 200, body: 'from a file', stale: null });
      await seen(b, 'k', 'from a file');
    });

    test('wrong password: not ready, clean 503s; ready once etcd accepts the password', async () => {
      const root = etcd.client();
      await root.user('rotating').create('old-password');
      await root.user('rotating').addRole('cache-rw');
      const app = await start({ ETCD_USERNAME: 'rotating', ETCD_PASSWORD: 'new-password' }, prefix('rotate'));
      await assertRefuses(app);
      // The operator rotates the password in etcd: the relist loop authenticates on its next attempt.
      await root.user('rotating').setPassword('new-password');
      await waitReady(app);
      assert.equal((await put(app, 'k', 1)).status, 200);
      assert.deepEqual(await get(app, 'k', true), { status: 200, body: 1, stale: null });
    });

    test('a user without permission on the prefix: not ready, clean 503s', async () => {
      // The role grants readwrite on cantons-sec/ only.
      await assertRefuses(await start(user, `elsewhere-${process.pid}/`));
    });

    test('an auth change in etcd (another user added) does not break running instances', async () => {
      const { a, b, p, proxy } = await pair('change');
      assert.equal((await put(a, 'k', 'before')).status, 200);
      await seen(b, 'k', 'before');
      // Any change to users, roles or permissions bumps etcd's auth revision; a JWT issued before is refused from then on.
      const root = etcd.client();
      await root.user(`bystander-${n}`).create('x');
      assert.equal((await put(a, 'k', 'after a change')).status, 200);
      assert.deepEqual(await get(b, 'k', false), { status: 200, body: 'after a change', stale: null });
      await seen(b, 'k', 'after a change');
      await root.put(`${p}k`).value('"root"');
      await seen(a, 'k', 'root');
      // A watch lost after another change is opened again (a list first, which renews the token).
      await root.user(`bystander-${n}`).delete();
      await cutAndRelist(a, proxy);
      assert.equal((await put(b, 'k', 'after relist')).status, 200);
      await seen(a, 'k', 'after relist');
    });

    test('auth tokens expire: writes still succeed, watches still deliver, a watch lost after expiry relists', async () => {
      // Proof that tokens do expire: one taken through etcd's JSON gateway is refused after the TTL.
      const token = await gateway.token();
      assert.equal((await gateway.range(token)).status, 200);
      const { a, b, p, proxy } = await pair('expiry');
      assert.equal((await put(a, 'k', 'before')).status, 200);
      await seen(b, 'k', 'before');
      const root = etcd.client();
      await root.put(`${p}ext`).value('"root before"');
      await seen(a, 'ext', 'root before');

      // Every token taken so far has expired (simple ones: unused for longer than the TTL; JWTs: older than it).
      await sleep(TTL_S * 1000 + 1500);
      const refused = await gateway.range(token);
      assert.notEqual(refused.status, 200);
      assert.match(await refused.text(), /invalid auth token/);

      // A write with the expired token: the client authenticates again and the write goes through.
      assert.equal((await put(a, 'k', 'after expiry')).status, 200);
      assert.deepEqual(await get(a, 'k', true), { status: 200, body: 'after expiry', stale: null });
      // b's watch, opened with a token that has expired since, still delivers.
      await seen(b, 'k', 'after expiry');
      assert.equal((await get(b, 'k', true)).stale, null);
      // Another client's write reaches both watches.
      await root.put(`${p}ext`).value('"root after expiry"');
      await seen(a, 'ext', 'root after expiry');
      await seen(b, 'ext', 'root after expiry');
      assert.deepEqual(await get(b, 'ext', false), { status: 200, body: 'root after expiry', stale: null });

      // Expire again, then cut a's connections: its watch must be opened anew, and etcd refuses to
      // create a watch with an expired token — the relist's list authenticates again first.
      await sleep(TTL_S * 1000 + 1500);
      await cutAndRelist(a, proxy);
      assert.equal((await put(b, 'k', 'after relist')).status, 200);
      await seen(a, 'k', 'after relist');
      assert.match(await (await fetch(`${a.url}/metrics`)).text(), /^cantons_cache_watch_connected 1$/m);
    });

    test('a watch refused for its expired token does not wedge the client: the next list and watch go live', async () => {
      const p = prefix('refused');
      const client = createEtcdClient({ ETCD_URL: [etcd.url], ...user, CACHE_ETCD_TIMEOUT_MS: 1000 });
      const informer = new Informer({ client, prefix: p, log: createLogger('silent'), resync: { baseMs: 20, maxMs: 300 }, checkTimeoutMs: 1000 });
      try {
        await client.put(`${p}a`).value('"1"');
        await sleep(TTL_S * 1000 + 1500);
        // The client still holds its expired token, and opens a watch stream with it: etcd refuses the watch.
        // (Between an informer's list and its watch, a token can expire just so.)
        const refused = client.watch().prefix(p).watcher();
        const outcome = await new Promise<string>((resolve) => {
          refused.on('connected', () => resolve('connected')).on('error', (err) => resolve(err.message));
        });
        assert.match(outcome, /invalid auth token/);
        informer.start();
        await waitFor('live', () => !informer.stale(), 10_000);
        await etcd.client().put(`${p}b`).value('"2"');
        await waitFor('the watch delivers', () => informer.get('b')?.json === '"2"', 5000);
      } finally {
        await informer.close();
        client.close();
      }
    });

    test('etcd restarted (simple tokens die with it): instances relist and keep working', async () => {
      const { a, b } = await pair('restart');
      assert.equal((await put(a, 'k', 'before')).status, 200);
      await seen(b, 'k', 'before');
      await etcd.restart();
      for (const app of [a, b]) await waitFor('live again', async () => (await get(app, 'k', true)).stale === null, 10_000);
      assert.equal((await put(a, 'k', 'after restart')).status, 200);
      await seen(b, 'k', 'after restart');
      assert.equal((await put(b, 'k', 'from b')).status, 200);
      await seen(a, 'k', 'from b');
    });
  });
}
