// One answer for the unauthenticated: with API_KEYS (and RPC_TOKEN) set, no anonymous answer tells which paths exist,
// so a prober cannot tell a process that serves roles over /rpc from one that serves none.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { demoModule } from '../fixtures/demo/index.ts';
import { startTestApp, type TestApp } from '../testing/index.ts';
import { rawRequest } from '../testing/raw-http.ts';

const TOKEN = 'rpc-token-0123456789abcdef';
const KEY = 'api-key-0123456789abcdef';
const json = { 'content-type': 'application/json' };

// Known and unknown paths, each spelling of /rpc, any method: anonymous, every one is 401.
const PROBES: Array<[method: string, path: string]> = [
  ['POST', '/rpc/demo.api/get'],
  ['POST', '/RPC/demo.api/get/'],
  ['GET', '/rpc/demo.api/get'],
  ['POST', '/rpc/demo.api/no-such-method'],
  ['POST', '/rpc/no.such-role/get'],
  ['DELETE', '/rpc/'],
  ['GET', '/demo/items/a'],
  ['POST', '/demo/items'],
  ['GET', '/no/such/path'],
  // The system routes too: /openapi.json and /metrics name the modules and roles a process runs.
  ['GET', '/openapi.json'],
  ['GET', '/metrics'],
  ['GET', '/docs'],
];

const ask = (t: TestApp, method: string, path: string, headers: Record<string, string> = {}) =>
  rawRequest(t.url, method, path, method === 'POST' ? '{"id":"a","name":"A"}' : undefined, { ...json, ...headers });

describe('with API_KEYS, every path but /healthz and /readyz is 401 without a key', () => {
  const apps: Record<string, TestApp> = {};
  before(async () => {
    // A process serving demo.api to others; one running only demo.client (serves nothing); everything in one process.
    apps.serving = await startTestApp({ modules: [demoModule], env: { MODULES: 'demo.api', RPC_TOKEN: TOKEN, API_KEYS: KEY } });
    apps.client = await startTestApp({
      modules: [demoModule],
      env: { MODULES: 'demo.client', DEMO_API_URL: apps.serving.url, RPC_TOKEN: TOKEN, API_KEYS: KEY, RPC_RETRIES: '0' },
    });
    apps.single = await startTestApp({ modules: [demoModule], env: { API_KEYS: KEY } });
  });
  after(async () => {
    for (const t of Object.values(apps)) await t.close();
  });

  it('answers every anonymous request 401 with WWW-Authenticate, in processes that serve roles and in those that serve none', async () => {
    for (const [name, t] of Object.entries(apps)) {
      for (const [method, path] of PROBES) {
        const res = await ask(t, method, path);
        assert.equal(res.status, 401, `${name}: ${method} ${path}: ${res.text}`);
        assert.equal(JSON.parse(res.text).error, 'UNAUTHORIZED', `${name}: ${method} ${path}`);
        assert.match(String(res.headers['www-authenticate']), /^Bearer realm=/, `${name}: ${method} ${path}`);
      }
      for (const path of ['/healthz', '/readyz']) assert.equal((await fetch(`${t.url}${path}`)).status, 200, `${name}: ${path}`);
    }
  });

  it('gives /rpc one answer, known path or not, whether the process serves roles or not (both hold the token)', async () => {
    const answer = async (t: TestApp, method: string, path: string, headers?: Record<string, string>) => {
      const res = await ask(t, method, path, headers);
      return { status: res.status, body: JSON.parse(res.text), auth: res.headers['www-authenticate'] };
    };
    const expected = await answer(apps.serving, 'POST', '/rpc/demo.api/get');
    for (const t of [apps.serving, apps.client])
      for (const [method, path] of PROBES.filter(([, p]) => /^\/rpc\//i.test(p))) {
        assert.deepEqual(await answer(t, method, path), expected, `${method} ${path}`);
        // An API key opens the API, not /rpc.
        assert.deepEqual(await answer(t, method, path, { 'x-api-key': KEY }), expected, `${method} ${path} with an API key`);
      }
  });

  it('lets the right credential through: the token to /rpc where it is served, a key everywhere else', async () => {
    const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
    assert.equal((await ask(apps.serving, 'POST', '/demo/items', bearer(KEY))).status, 201);
    assert.equal((await ask(apps.serving, 'POST', '/rpc/demo.api/get', bearer(TOKEN))).status, 200);
    assert.equal((await ask(apps.serving, 'POST', '/rpc/demo.api/no-such-method', bearer(TOKEN))).status, 404);
    assert.equal((await ask(apps.client, 'POST', '/rpc/demo.api/get', bearer(TOKEN))).status, 404);
    assert.equal((await ask(apps.single, 'POST', '/rpc/demo.api/get', bearer(KEY))).status, 404);
    assert.equal((await ask(apps.single, 'GET', '/no/such/path', bearer(KEY))).status, 404);
    // The HTTP transport carries the token: the client process reaches demo.api through it.
    assert.equal((await fetch(`${apps.client.url}/demo/via-client/a`, { headers: bearer(KEY) })).status, 200);
  });
});
