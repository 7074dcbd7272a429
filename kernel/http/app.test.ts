// The kernel's HTTP surface over a real socket: errors, limits, request ids, health, metrics, OpenAPI, docs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { demoModule } from '../fixtures/demo/index.ts';
import { startTestApp, type TestApp } from '../testing/index.ts';

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
    const res = await fetch(`${t.url}/demo/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big, duplex: 'half' } as RequestInit);
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
