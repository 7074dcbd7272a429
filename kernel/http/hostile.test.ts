// Hostile input over real sockets: unknown methods, NUL and lone surrogates, deep JSON, hang-ups mid-upload,
// Node's own parse errors, and backing services that go away — never a 5xx the client could cause, always JSON.
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { demoModule } from '../fixtures/demo/index.ts';
import { createLogger } from '../logger.ts';
import { defineModule } from '../module.ts';
import { route } from './route.ts';
import { createTestDatabase, gate, startTestApp, waitFor, type TestApp } from '../testing/index.ts';
import { rawRequest, rawSocket, type Raw } from '../testing/raw-http.ts';

/** A module whose route takes any JSON and walks it recursively, as a store or serialiser would. */
const probeModule = defineModule({
  name: 'probe',
  description: 'test fixture: a route that accepts any JSON value',
  roles: {
    api: {
      create: () => ({
        routes: [
          route({
            method: 'put',
            path: '/probe/echo',
            summary: 'echo any JSON',
            body: z.unknown(),
            responses: { 200: z.unknown() },
            handler: ({ body }) => ({ body: { length: JSON.stringify(body).length } }),
          }),
        ],
      }),
    },
  },
});

function jsonError(raw: Raw) {
  const body = JSON.parse(raw.text);
  assert.equal(typeof body.error, 'string', raw.text);
  assert.equal(typeof body.message, 'string', raw.text);
  return body as { error: string; message: string };
}

const UNKNOWN_METHODS = [
  'TRACE',
  'PROPFIND',
  'SEARCH',
  'PURGE',
  'LOCK',
  'UNLOCK',
  'MKCOL',
  'LINK',
  'UNLINK',
  'REPORT',
  'M-SEARCH',
  'SUBSCRIBE',
  'COPY',
  'MOVE',
  'PROPPATCH',
  'NOTIFY',
  'MKACTIVITY',
  'CHECKOUT',
  'MERGE',
  'BIND',
  'REBIND',
  'ACL',
  'SOURCE',
];

describe('hostile input', () => {
  let t: TestApp;
  const lines: string[] = [];
  before(async () => {
    t = await startTestApp({ modules: [demoModule, probeModule], log: createLogger('debug', { write: (s: string) => void lines.push(s) }) });
  });
  after(() => t.close());
  const levels = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string });

  it('answers unknown methods with 405 and Allow on a known path, 404 elsewhere, JSON, logged at debug', async () => {
    lines.length = 0;
    for (const method of UNKNOWN_METHODS) {
      for (const [path, status] of [
        ['/healthz', 405],
        ['/demo/items', 405],
        ['/demo/items/x', 405],
        ['/nowhere', 404],
        ['/', 404],
      ] as const) {
        const res = await rawRequest(t.url, method, path);
        assert.equal(res.status, status, `${method} ${path}: ${res.status} ${res.text}`);
        if (method !== 'HEAD') jsonError(res);
        if (status === 405) assert.match(String(res.headers.allow), /GET|POST/, `${method} ${path}`);
      }
    }
    const options = await rawRequest(t.url, 'OPTIONS', '/demo/items');
    assert.equal(options.status, 204);
    assert.match(String(options.headers.allow), /POST/);
    assert.deepEqual(
      levels().filter((l) => l.level >= 40),
      [],
    );
  });

  it('refuses NUL and lone surrogates in body strings and keys, path and query, with 400 VALIDATION_ERROR', async () => {
    const put = (text: string) => rawRequest(t.url, 'PUT', '/probe/echo', text, { 'content-type': 'application/json' });
    const post = (text: string) => rawRequest(t.url, 'POST', '/demo/items', text, { 'content-type': 'application/json' });
    for (const text of ['"a\\u0000b"', '{"k":"\\u0000"}', '{"a\\u0000":1}', '["\\ud800"]', '{"x":[{"y":"\\udc00z"}]}', '"\\ud800"']) {
      const res = await put(text);
      assert.equal(res.status, 400, text);
      assert.equal(jsonError(res).error, 'VALIDATION_ERROR', text);
    }
    const bad = await post('{"id":"n1","name":"a\\u0000b"}');
    assert.equal(bad.status, 400);
    assert.match(jsonError(bad).message, /name/);
    // A paired surrogate (an emoji) is fine.
    assert.equal((await put('"\\ud83d\\ude00"')).status, 200);
    for (const path of ['/demo/items/a%00b', '/demo/items/a?x=%00', '/demo/items/a?x%00=1', '/demo/items/a?x=1&x=%00']) {
      const res = await rawRequest(t.url, 'GET', path);
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      assert.equal(jsonError(res).error, 'VALIDATION_ERROR');
    }
    // Percent-encoded bytes that are not UTF-8 cannot decode to a lone surrogate: they stay as sent, or become U+FFFD.
    for (const path of ['/demo/items/%ED%A0%80', '/demo/items/%FF', '/demo/items/a?x=%ED%A0%80', '/demo/items/%', '/demo/items/a?x=%']) {
      const res = await rawRequest(t.url, 'GET', path);
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status} ${res.text}`);
      jsonError(res);
    }
    assert.equal((await rawRequest(t.url, 'GET', '/demo/items/n1')).status, 404);
  });

  it('refuses JSON nested deeper than the bound before any handler walks it', async () => {
    for (const depth of [65, 5000, 100_000]) {
      const res = await rawRequest(t.url, 'PUT', '/probe/echo', '['.repeat(depth) + ']'.repeat(depth), { 'content-type': 'application/json' });
      assert.equal(res.status, 400, `depth ${depth}: ${res.text}`);
      assert.equal(jsonError(res).error, 'BAD_REQUEST');
    }
    const deepObject = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    assert.equal((await rawRequest(t.url, 'PUT', '/probe/echo', deepObject, { 'content-type': 'application/json' })).status, 400);
    assert.equal((await rawRequest(t.url, 'PUT', '/probe/echo', '['.repeat(64) + ']'.repeat(64), { 'content-type': 'application/json' })).status, 200);
  });

  it('counts a client that hangs up mid-upload as 499, not 500, and logs it at debug', async () => {
    lines.length = 0;
    const before = await (await fetch(`${t.url}/metrics`)).text();
    assert.doesNotMatch(before, /route="\/probe\/echo",status="499"/);
    for (let i = 0; i < 3; i++) {
      const s: Socket = connect(Number(new URL(t.url).port), '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write('PUT /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":"');
      await new Promise((r) => setTimeout(r, 50));
      s.destroy();
    }
    const metrics = await waitFor(
      'the hang-ups counted',
      async () => {
        const text = await (await fetch(`${t.url}/metrics`)).text();
        return /route="\/probe\/echo",status="499"\} 3/.test(text) && text;
      },
      5000,
    );
    assert.doesNotMatch(metrics as string, /status="5\d\d"/);
    assert.deepEqual(
      levels().filter((l) => l.level >= 40),
      [],
    );
    assert.ok(levels().some((l) => l.level === 20 && /client closed/.test(l.msg)));
  });

  it("answers Node's own parse errors with the JSON error body", async () => {
    const port = Number(new URL(t.url).port);
    const cases: Array<[string, string | Buffer, number]> = [
      ['oversized URL', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
      ['oversized header', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
      ['NUL in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n', 400],
      ['CR in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n', 400],
      ['bad chunk', 'POST /demo/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
      ['garbage request line', 'HELLO\r\n\r\n', 400],
      ['no Host', 'GET /healthz HTTP/1.1\r\n\r\n', 400],
      ['Expect other than 100-continue', 'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nConnection: close\r\n\r\n', 417],
      ['both Content-Length and chunked', 'POST /demo/items HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ];
    for (const [what, bytes, status] of cases) {
      const out = await rawSocket(port, bytes);
      const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(out);
      assert.ok(m, `${what}: ${JSON.stringify(out.slice(0, 200))}`);
      assert.equal(Number(m[1]), status, `${what}: ${out.slice(0, 300)}`);
      assert.match(m[2], /content-type: application\/json/i, what);
      const body = m[3].startsWith('{') ? m[3] : m[3].split('\r\n')[1];
      assert.equal(typeof JSON.parse(body).error, 'string', `${what}: ${m[3]}`);
    }
    // HTTP/1.0 needs no Host.
    assert.match(await rawSocket(port, 'GET /healthz HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200/);
  });
});

describe('backing services that fail while serving', await gate('postgres'), () => {
  it('answers 503 SERVICE_UNAVAILABLE, not 500, when Postgres goes away', async () => {
    const pg = await createTestDatabase();
    // A TCP proxy in front of Postgres, closed mid-run: the database is gone for the app, nothing is mocked.
    const target = new URL(pg.url);
    const links = new Set<Socket>();
    const proxy = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        links.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          links.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const via = new URL(pg.url);
    via.port = String((proxy.address() as { port: number }).port);
    const lines: string[] = [];
    const app = await startTestApp({
      modules: [demoModule],
      env: { DATABASE_URL: via.toString(), DB_CONNECT_ATTEMPTS: '1' },
      log: createLogger('info', { write: (s: string) => void lines.push(s) }),
    });
    try {
      assert.equal((await fetch(`${app.url}/demo/items/none`)).status, 404);
      proxy.close();
      for (const s of links) s.destroy();
      for (const path of ['/demo/items/none', '/demo/items/other']) {
        const res = await fetch(`${app.url}${path}`);
        const body = await res.json();
        assert.equal(res.status, 503, JSON.stringify(body));
        assert.equal(body.error, 'SERVICE_UNAVAILABLE');
      }
      assert.equal(lines.filter((l) => JSON.parse(l).level >= 50 && /unexpected/.test(l)).length, 0, lines.join(''));
    } finally {
      await app.close();
      await pg.drop();
    }
  });
});
