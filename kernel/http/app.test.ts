// The kernel's HTTP surface over a real socket: errors, limits, request ids, health, metrics, OpenAPI, docs, log lines.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { bootstrap } from '../bootstrap.ts';
import { demoModule } from '../fixtures/demo/index.ts';
import { createLogger } from '../logger.ts';
import { listen } from '../server.ts';
import { startTestApp, tempDir, waitFor, type TestApp } from '../testing/index.ts';

describe('kernel HTTP surface', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ modules: [demoModule] });
  });
  after(() => t.close());

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(t.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  async function expectError(res: Response, status: number, code: string) {
    assert.equal(res.status, status);
    const body = await res.json();
    assert.equal(body.error, code);
    assert.equal(typeof body.message, 'string');
    assert.ok(body.message.length > 0);
    return body;
  }

  it('creates and reads through a route and through the facade', async () => {
    assert.equal((await post('/demo/items', JSON.stringify({ id: 'a', name: 'Anna' }))).status, 201);
    assert.deepEqual(await (await fetch(`${t.url}/demo/items/a`)).json(), { id: 'a', name: 'Anna' });
    assert.deepEqual(await (await fetch(`${t.url}/demo/via-client/a`)).json(), { id: 'a', name: 'Anna', greeting: 'hello' });
    await expectError(await fetch(`${t.url}/demo/via-client/nope`), 404, 'ITEM_NOT_FOUND');
  });

  it('finds a route by its exact path and, like the router, with a trailing slash or other letter case', async () => {
    assert.equal((await post('/demo/items/', JSON.stringify({ id: 'slash', name: 'S' }))).status, 201);
    assert.equal((await post('/DEMO/Items', JSON.stringify({ id: 'case', name: 'C' }))).status, 201);
    assert.deepEqual(await (await fetch(`${t.url}/demo/items/case`)).json(), { id: 'case', name: 'C' });
    await expectError(await post('/demo/items/x/y', '{}'), 404, 'NOT_FOUND');
  });

  it('answers bad input with 4xx and stores nothing', async () => {
    await expectError(await post('/demo/items', '{"id": "b", '), 400, 'BAD_REQUEST');
    await expectError(await post('/demo/items', ''), 400, 'BAD_REQUEST');
    const v = await expectError(await post('/demo/items', JSON.stringify({ id: 7, name: 'x' })), 400, 'VALIDATION_ERROR');
    assert.match(v.message, /id/);
    await expectError(await post('/demo/items', JSON.stringify({ id: 'b' })), 400, 'VALIDATION_ERROR');
    await expectError(await post('/demo/items', JSON.stringify({ id: 'b', name: 'x', extra: 1 })), 400, 'VALIDATION_ERROR');
    await expectError(await post('/demo/items', JSON.stringify({ id: 'b', name: 'x'.repeat(2 * 1024 * 1024) })), 413, 'PAYLOAD_TOO_LARGE');
    await expectError(await fetch(`${t.url}/demo/items/b`), 404, 'ITEM_NOT_FOUND');
  });

  it('rejects an oversized chunked body without a content-length', async () => {
    const big = new Blob(['{"id":"c","name":"', 'y'.repeat(2 * 1024 * 1024), '"}']).stream();
    const res = await fetch(`${t.url}/demo/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
      duplex: 'half',
    } as RequestInit);
    await expectError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('maps unknown routes and methods, and hides unexpected errors', async () => {
    await expectError(await fetch(`${t.url}/nowhere`), 404, 'NOT_FOUND');
    await expectError(await fetch(`${t.url}/demo/items`, { method: 'DELETE' }), 405, 'METHOD_NOT_ALLOWED');
    const body = await expectError(await fetch(`${t.url}/demo/boom`), 500, 'UNEXPECTED_ERROR');
    assert.doesNotMatch(body.message, /secret internals/);
  });

  it('keeps a client request id and makes one otherwise', async () => {
    const given = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(given.headers.get('x-request-id'), 'abc-123');
    const made = await fetch(`${t.url}/healthz`);
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('serves health, readiness, metrics, OpenAPI and docs', async () => {
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    const ready = await fetch(`${t.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal((await ready.json()).checks['db:demo'], true);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, /cantons_http_requests_total\{method="POST",route="\/demo\/items",status="201"\}/);
    assert.match(metrics, /cantons_outbox_depth/);
    const spec = await (await fetch(`${t.url}/openapi.json`)).json();
    assert.ok(spec.paths['/demo/items/{id}'].get);
    assert.deepEqual(spec.paths['/demo/items'].post.requestBody.content['application/json'].schema.required, ['id', 'name']);
    const docs = await fetch(`${t.url}/docs`);
    assert.match(await docs.text(), /swagger-ui-bundle\.js/);
    const bundle = await fetch(`${t.url}/docs/swagger-ui-bundle.js`);
    assert.equal(bundle.status, 200);
  });
});

describe('log lines of requests', () => {
  /** The app with its log lines captured at `level`, each parsed as a collector would: JSON.parse keeps the last of two equal keys. */
  async function withLines(level: string) {
    const lines: string[] = [];
    const t = await startTestApp({ modules: [demoModule], log: createLogger(level, { write: (s: string) => void lines.push(s) }) });
    const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    return { t, parsed, access: () => parsed().filter((l) => l.msg === 'request') };
  }

  it('writes one info access line per request: method, route pattern, status, ms, bytes, request id', async () => {
    const { t, access } = await withLines('info');
    try {
      await fetch(`${t.url}/demo/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"logged","name":"L"}' });
      const res = await fetch(`${t.url}/demo/items/logged?secret=in-query`, { headers: { 'x-request-id': 'access-1' } });
      const body = await res.text();
      await fetch(`${t.url}/nowhere/else`);
      for (const probe of ['/healthz', '/readyz', '/metrics']) await (await fetch(t.url + probe)).text();
      // The line is written when the response has closed, which the client may see a moment before.
      const lines = await waitFor('three access lines', () => access().length >= 3 && access());
      assert.equal(lines.length, 3, JSON.stringify(lines));
      const [, get, unrouted] = lines;
      assert.deepEqual(
        { ...get, time: 0, pid: 0, ms: 0 },
        {
          level: 30,
          time: 0,
          pid: 0,
          reqId: 'access-1',
          method: 'GET',
          route: '/demo/items/:id',
          status: 200,
          ms: 0,
          bytes: Buffer.byteLength(body),
          msg: 'request',
        },
      );
      assert.equal(typeof get.ms, 'number');
      assert.ok((get.ms as number) >= 0 && (get.ms as number) < 10_000);
      assert.equal(lines[0].status, 201);
      assert.deepEqual([unrouted.route, unrouted.status], ['unmatched', 404], 'never the raw path');
    } finally {
      await t.close();
    }
  });

  it('logs a client that hung up mid-body as 499', async () => {
    const { t, access } = await withLines('info');
    try {
      const s = connect(Number(new URL(t.url).port), '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write('POST /demo/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":"');
      await new Promise((r) => setTimeout(r, 50));
      s.destroy();
      const [line] = (await waitFor('the access line', () => access().length > 0 && access(), 5000)) as Array<Record<string, unknown>>;
      assert.deepEqual([line.route, line.status], ['/demo/items', 499]);
    } finally {
      await t.close();
    }
  });

  it('puts probes and scrapes at debug', async () => {
    const { t, access } = await withLines('debug');
    try {
      for (const probe of ['/healthz', '/readyz', '/metrics']) await (await fetch(t.url + probe)).text();
      await waitFor('three probe lines', () => access().length >= 3);
      assert.deepEqual(
        access().map((l) => [l.route, l.level]),
        [
          ['/healthz', 20],
          ['/readyz', 20],
          ['/metrics', 20],
        ],
      );
    } finally {
      await t.close();
    }
  });

  it('gives a refused or failed request one msg and its cause under reason', async () => {
    const { t, parsed } = await withLines('debug');
    try {
      await fetch(`${t.url}/demo/items/absent`);
      const refused = parsed().find((l) => l.msg === 'request refused');
      assert.deepEqual([refused?.code, refused?.reason], ['ITEM_NOT_FOUND', 'Item absent does not exist']);
    } finally {
      await t.close();
    }
    // Not started: module routes answer 503 NOT_READY, a known failure logged at warn.
    const lines: string[] = [];
    const kernel = bootstrap({ modules: [demoModule], env: { DATA_DIR: tempDir() }, log: createLogger('info', { write: (s: string) => void lines.push(s) }) });
    const running = await listen(kernel, 0, '127.0.0.1');
    try {
      assert.equal((await fetch(`http://127.0.0.1:${running.port}/demo/items/a`)).status, 503);
      const failed = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request failed');
      assert.deepEqual([failed?.level, failed?.code, failed?.reason], [40, 'NOT_READY', 'Not ready: modules are starting or shutting down']);
    } finally {
      await running.shutdown();
    }
  });

  it('builds no access line below info (the per-request cost the bench measures at LOG_LEVEL=warn)', async () => {
    const log = createLogger('warn', { write: () => {} });
    let calls = 0;
    for (const level of ['info', 'debug'] as const) {
      const write = log[level].bind(log);
      log[level] = ((...args: Parameters<typeof write>) => {
        calls++;
        return write(...args);
      }) as typeof write;
    }
    const t = await startTestApp({ modules: [demoModule], log });
    calls = 0; // start-up's own lines
    try {
      await fetch(`${t.url}/demo/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"quiet","name":"Q"}' });
      for (const path of ['/demo/items/quiet', '/healthz']) await (await fetch(t.url + path)).text();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(calls, 0);
    } finally {
      await t.close();
    }
  });
});
