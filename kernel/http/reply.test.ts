// A route's JSON reply is written straight to Node's response (kernel/http/route.ts writeReply): the same bytes,
// status and headers Koa's respond() sends, checked on the wire, for GET, POST (another status) and HEAD (Koa's path).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { demoModule } from '../fixtures/demo/index.ts';
import { startTestApp, type TestApp } from '../testing/index.ts';
import { rawRequest } from '../testing/raw-http.ts';

describe('route replies', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ modules: [demoModule] });
  });
  after(() => t.close());

  const item = { id: 'umlaut', name: 'Zoë ☃ 𝄞' };

  it('sends the JSON bytes with their byte length, the JSON type, the status and the request id', async () => {
    const created = await fetch(`${t.url}/demo/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'reply-1' },
      body: JSON.stringify(item),
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('x-request-id'), 'reply-1');
    const res = await rawRequest(t.url, 'GET', '/demo/items/umlaut');
    assert.equal(res.status, 200);
    const text = JSON.stringify(item);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(text)));
    assert.ok(res.headers['x-request-id']);
    assert.equal(res.text, text);
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const res = await rawRequest(t.url, 'HEAD', '/demo/items/umlaut');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(JSON.stringify(item))));
    assert.equal(res.text, '');
  });
});

describe('route replies of text under a declared type (the cache: stored JSON text)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { MODULES: 'cache' } });
  });
  after(() => t.close());

  it('sends the text as it is, with its byte length and the route’s own headers', async () => {
    const value = '{"name":"Zoë ☃"}';
    const put = await fetch(`${t.url}/config/reply-key`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: value });
    assert.equal(put.status, 200);
    const res = await rawRequest(t.url, 'GET', '/config/reply-key?use_cache=true');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(value)));
    assert.match(String(res.headers['x-cache-revision']), /^\d+$/);
    assert.equal(res.text, value);
  });
});
