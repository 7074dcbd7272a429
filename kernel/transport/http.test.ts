// The HTTP transport between two real kernels: calls, typed remote errors, and an unreachable role.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { demoModule } from '../fixtures/demo/index.ts';
import { startTestApp, type TestApp } from '../testing/index.ts';

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
