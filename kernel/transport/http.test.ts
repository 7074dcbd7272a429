// The HTTP transport between two real kernels (calls, typed remote errors, an unreachable role), and against a server that is not cantons.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { defineContract, method, remoteFacade } from '../contract.ts';
import { demoModule } from '../fixtures/demo/index.ts';
import { failure, outcome, startTestApp, type TestApp } from '../testing/index.ts';
import { httpTransport } from './http.ts';

describe('HTTP transport between processes', () => {
  let api: TestApp;
  let client: TestApp;
  before(async () => {
    api = await startTestApp({ modules: [demoModule], env: { MODULES: 'demo.api' } });
    client = await startTestApp({ modules: [demoModule], env: { MODULES: 'demo.client', DEMO_API_URL: api.url, RPC_RETRIES: '1', RPC_TIMEOUT_MS: '500' } });
  });
  after(async () => {
    await client.close();
    await api.close();
  });

  it('calls the remote facade and maps its errors back to the same code', async () => {
    const created = await fetch(`${api.url}/demo/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'r1', name: 'Remote' }),
    });
    assert.equal(created.status, 201);
    assert.deepEqual(await (await fetch(`${client.url}/demo/via-client/r1`)).json(), { id: 'r1', name: 'Remote', greeting: 'hello' });
    const missing = await fetch(`${client.url}/demo/via-client/none`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error, 'ITEM_NOT_FOUND');
  });

  it('validates RPC input on the serving side', async () => {
    const res = await fetch(`${api.url}/rpc/demo.api/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 5 }),
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error, 'VALIDATION_ERROR');
  });

  it('answers 503 ROLE_UNAVAILABLE when the remote role is down', async () => {
    await api.close();
    const res = await fetch(`${client.url}/demo/via-client/r1`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.error, 'ROLE_UNAVAILABLE');
    assert.match(body.message, /demo\.api/);
  });
});

describe('HTTP transport against a server that is not cantons', () => {
  const contract = defineContract('demo.raw', {
    get: method({ input: z.object({ id: z.int() }), output: z.object({ id: z.int(), name: z.string() }), idempotent: true }),
    put: method({ input: z.object({ id: z.int() }), output: z.object({ ok: z.boolean() }) }),
  });
  let answer: (res: ServerResponse) => void = (res) => res.end();
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    req.resume();
    req.on('end', () => answer(res));
  });
  const reply =
    (status: number, body: string, type = 'application/json') =>
    (res: ServerResponse) =>
      res.writeHead(status, { 'content-type': type }).end(body);
  let facade: ReturnType<typeof remoteFacade<typeof contract>>;
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    facade = remoteFacade(
      contract,
      httpTransport({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300, retries: 1, retryBaseMs: 1, breakAfter: 3, probeAfterMs: 200 }),
    );
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('an answer outside the contract is 502 ROLE_INVALID_ANSWER naming the field, quoting nothing of theirs', async () => {
    answer = reply(200, '{"id":1,"name":42}');
    const err = await failure(facade.get({ id: 1 }));
    assert.deepEqual([err.status, err.code], [502, 'ROLE_INVALID_ANSWER']);
    assert.match(err.message, /demo\.raw answered get outside its contract: name/);
    answer = reply(200, '<html>their page</html>', 'text/html');
    assert.equal(await outcome(facade.get({ id: 1 })), '502 ROLE_INVALID_ANSWER');
    answer = reply(404, 'nothing here', 'text/plain');
    const missing = await failure(facade.get({ id: 1 }));
    assert.deepEqual([missing.status, missing.code], [502, 'ROLE_INVALID_ANSWER']);
    assert.doesNotMatch(missing.message, /nothing here|their page/);
  });

  it('a proxy 5xx page, a reset and a deadline are 503; repeated, the breaker answers at once without calling', async () => {
    answer = reply(502, '<html>bad gateway</html>', 'text/html');
    assert.equal(await outcome(facade.put({ id: 1 })), '503 ROLE_UNAVAILABLE');
    answer = (res) => res.socket?.resetAndDestroy();
    assert.equal(await outcome(facade.put({ id: 1 })), '503 ROLE_UNAVAILABLE');
    answer = () => {};
    const started = Date.now();
    assert.equal(await outcome(facade.get({ id: 1 })), '503 ROLE_UNAVAILABLE');
    assert.ok(Date.now() - started < 450, `${Date.now() - started} ms: the deadline covers the retries`);

    for (let i = 0; i < 3; i++) await outcome(facade.put({ id: 1 }));
    const before = calls;
    const fast = Date.now();
    assert.equal(await outcome(facade.put({ id: 1 })), '503 ROLE_UNAVAILABLE');
    assert.ok(Date.now() - fast < 50 && calls === before, 'refused without a call while the circuit is open');
    answer = reply(200, '{"ok":true}');
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(await outcome(facade.put({ id: 1 })), 'OK');
  });
});
