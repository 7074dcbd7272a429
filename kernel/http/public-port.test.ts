// The public port is only the public API: no /rpc in one process, /rpc only with RPC_TOKEN across processes,
// API keys on every module route, no writes from other sites' pages, CORS only for listed origins, Host checks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bootstrap } from '../bootstrap.ts';
import { demoModule } from '../fixtures/demo/index.ts';
import { StartupError } from '../config.ts';
import { listen } from '../server.ts';
import { startTestApp, tempDir, type TestApp } from '../testing/index.ts';
import { rawRequest } from '../testing/raw-http.ts';

const TOKEN = 'rpc-token-0123456789abcdef';
const KEY = 'api-key-0123456789abcdef';
const json = { 'content-type': 'application/json' };

describe('/rpc', () => {
  it('does not exist in a single process', async () => {
    const t = await startTestApp({ modules: [demoModule] });
    try {
      await fetch(`${t.url}/demo/items`, { method: 'POST', headers: json, body: JSON.stringify({ id: 'a', name: 'A' }) });
      for (const path of ['/rpc/demo.api/get', '/RPC/demo.api/get', '/rpc/demo.api/get/']) {
        const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: json, body: JSON.stringify({ id: 'a' }) });
        assert.equal(res.status, 404, path);
        assert.equal((await res.json()).error, 'NOT_FOUND');
      }
    } finally {
      await t.close();
    }
  });

  describe('across processes', () => {
    let api: TestApp;
    let client: TestApp;
    before(async () => {
      api = await startTestApp({ modules: [demoModule], env: { MODULES: 'demo.api', RPC_TOKEN: TOKEN } });
      client = await startTestApp({ modules: [demoModule], env: { MODULES: 'demo.client', DEMO_API_URL: api.url, RPC_TOKEN: TOKEN, RPC_RETRIES: '0' } });
      await fetch(`${api.url}/demo/items`, { method: 'POST', headers: json, body: JSON.stringify({ id: 'r', name: 'R' }) });
    });
    after(async () => {
      await client?.close();
      await api?.close();
    });

    it('serves calls that carry RPC_TOKEN, the HTTP transport sends it', async () => {
      assert.deepEqual(await (await fetch(`${client.url}/demo/via-client/r`)).json(), { id: 'r', name: 'R', greeting: 'hello' });
      const direct = await fetch(`${api.url}/rpc/demo.api/get`, { method: 'POST', headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: '{"id":"r"}' });
      assert.equal(direct.status, 200);
    });

    it('answers every other call 401 UNAUTHORIZED, whatever the spelling of the path', async () => {
      for (const path of ['/rpc/demo.api/get', '/RPC/demo.api/get', '/rpc/demo.api/get/', '/Rpc/Demo.Api/Get']) {
        for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: TOKEN }, { 'x-api-key': TOKEN }] as Record<
          string,
          string
        >[]) {
          const res = await fetch(`${api.url}${path}`, { method: 'POST', headers: { ...json, ...headers }, body: '{"id":"r"}' });
          assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
          assert.equal((await res.json()).error, 'UNAUTHORIZED');
          assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
        }
      }
    });

    it('turns a refused token into 503 ROLE_UNAVAILABLE for the public client, naming the role only', async () => {
      const wrong = await startTestApp({
        modules: [demoModule],
        env: { MODULES: 'demo.client', DEMO_API_URL: api.url, RPC_TOKEN: 'another-token-0123456789', RPC_RETRIES: '0' },
      });
      try {
        const res = await fetch(`${wrong.url}/demo/via-client/r`);
        const body = await res.json();
        assert.equal(res.status, 503);
        assert.equal(body.error, 'ROLE_UNAVAILABLE');
        assert.match(body.message, /demo\.api/);
        assert.doesNotMatch(body.message, /127\.0\.0\.1|:\d{2,5}/);
      } finally {
        await wrong.close();
      }
    });
  });

  it('refuses to start on a non-loopback HOST serving roles to other processes without a token', () => {
    const env = { MODULES: 'demo.api', HOST: '0.0.0.0', DATA_DIR: '/nonexistent' };
    assert.throws(
      () => bootstrap({ modules: [demoModule], env }),
      (err: unknown) => err instanceof StartupError && /RPC_TOKEN/.test(err.message) && /demo\.api/.test(err.message),
    );
    assert.doesNotThrow(() => bootstrap({ modules: [demoModule], env: { ...env, RPC_TOKEN: TOKEN } }));
    // Everything in one process serves nothing remotely: no token needed, whatever the HOST.
    assert.doesNotThrow(() => bootstrap({ modules: [demoModule], env: { HOST: '0.0.0.0', DATA_DIR: '/nonexistent' } }));
    assert.doesNotThrow(() => bootstrap({ modules: [demoModule], env: { MODULES: 'demo.api', HOST: '127.0.0.1', DATA_DIR: '/nonexistent' } }));
  });
});

describe('/rpc on its own listener (RPC_PORT)', () => {
  it('serves /rpc there and only there, and nothing else there but the probes', async () => {
    const kernel = bootstrap({
      modules: [demoModule],
      env: { LOG_LEVEL: 'silent', DATA_DIR: tempDir(), MODULES: 'demo.api', RPC_PORT: '0', RPC_TOKEN: TOKEN },
    });
    const running = await listen(kernel, 0, '127.0.0.1');
    await kernel.start();
    const pub = `http://127.0.0.1:${running.port}`;
    const internal = `http://127.0.0.1:${running.rpcPort}`;
    const client = await startTestApp({ modules: [demoModule], env: { MODULES: 'demo.client', DEMO_API_URL: internal, RPC_TOKEN: TOKEN } });
    try {
      assert.ok(running.rpcPort && running.rpcPort !== running.port);
      await fetch(`${pub}/demo/items`, { method: 'POST', headers: json, body: JSON.stringify({ id: 'i', name: 'I' }) });
      const call = (base: string, path = '/rpc/demo.api/get') =>
        fetch(`${base}${path}`, { method: 'POST', headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: '{"id":"i"}' });
      for (const path of ['/rpc/demo.api/get', '/RPC/demo.api/get', '/rpc/demo.api/get/']) assert.equal((await call(pub, path)).status, 404, path);
      assert.equal((await call(internal)).status, 200);
      assert.equal((await fetch(`${internal}/rpc/demo.api/get`, { method: 'POST', headers: json, body: '{"id":"i"}' })).status, 401);
      // Without the token, the internal listener names no path: 401 for anything but the probes; with it, 404 off /rpc.
      const withToken = { headers: { authorization: `Bearer ${TOKEN}` } };
      for (const path of ['/demo/items/i', '/openapi.json', '/rpc/demo.api/nope']) {
        assert.equal((await fetch(`${internal}${path}`)).status, 401, path);
        assert.equal((await fetch(`${internal}${path}`, withToken)).status, 404, path);
      }
      assert.equal((await fetch(`${internal}/healthz`)).status, 200);
      assert.equal((await fetch(`${pub}/demo/items/i`)).status, 200);
      assert.deepEqual(await (await fetch(`${client.url}/demo/via-client/i`)).json(), { id: 'i', name: 'I', greeting: 'hello' });
    } finally {
      await client.close();
      assert.equal(await running.shutdown(), true);
    }
  });

  it("judges exposure by the RPC listener's interface", () => {
    const env = { MODULES: 'demo.api', HOST: '0.0.0.0', RPC_PORT: '0', DATA_DIR: '/nonexistent' };
    assert.doesNotThrow(() => bootstrap({ modules: [demoModule], env: { ...env, RPC_HOST: '127.0.0.1' } }));
    assert.throws(() => bootstrap({ modules: [demoModule], env }), /RPC_TOKEN/);
    assert.throws(() => bootstrap({ modules: [demoModule], env: { ...env, HOST: '127.0.0.1', RPC_HOST: '10.0.0.5' } }), /RPC_TOKEN/);
  });
});

describe('API_KEYS on every module', () => {
  let t: TestApp;
  before(async () => {
    // Every registered module, so that every route of /openapi.json is checked.
    t = await startTestApp({ env: { API_KEYS: `other-key-0123456789abc, ${KEY}`, GRPC_PORT: '0' } });
  });
  after(() => t?.close());

  const routes = async () => {
    const spec = await (await fetch(`${t.url}/openapi.json`, { headers: { 'x-api-key': KEY } })).json();
    return Object.entries<Record<string, unknown>>(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x') })),
    );
  };

  it('answers 401 UNAUTHORIZED with WWW-Authenticate on every route without a valid key', async () => {
    const all = await routes();
    for (const m of ['/events', '/products', '/orders', '/config', '/projects', '/threads', '/api/v1/benchmarks']) {
      assert.ok(
        all.some((r) => r.path.startsWith(m)),
        `a ${m} route is in /openapi.json`,
      );
    }
    for (const { method, path } of all) {
      for (const headers of [{}, { authorization: 'Bearer nope-0123456789abcdef' }, { 'x-api-key': 'nope' }, { authorization: `Basic ${KEY}` }] as Record<
        string,
        string
      >[]) {
        const res = await rawRequest(t.url, method, path, method === 'GET' || method === 'DELETE' ? undefined : '{}', { ...json, ...headers });
        assert.equal(res.status, 401, `${method} ${path} ${JSON.stringify(headers)}: ${res.text}`);
        assert.equal(JSON.parse(res.text).error, 'UNAUTHORIZED');
        assert.match(String(res.headers['www-authenticate']), /^Bearer realm=/);
      }
    }
  });

  it('lets a valid key through in either header, and keeps /healthz and /readyz open', async () => {
    for (const headers of [{ authorization: `Bearer ${KEY}` }, { 'x-api-key': KEY }, { authorization: 'bearer other-key-0123456789abc' }] as Record<
      string,
      string
    >[]) {
      for (const path of ['/products', '/config/some/key', '/events/stats', '/projects', '/api/v1/benchmarks']) {
        const res = await fetch(`${t.url}${path}`, { headers });
        assert.notEqual(res.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.ok(res.status < 500, `${path}: ${res.status}`);
      }
    }
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${t.url}/readyz`)).status, 200);
  });

  it('keeps /console behind the keys too, and out of /openapi.json (it is not public API)', async () => {
    assert.equal((await fetch(`${t.url}/console/bus`)).status, 401);
    assert.equal((await fetch(`${t.url}/console/bus`, { headers: { 'x-api-key': KEY } })).status, 200);
    const spec = await (await fetch(`${t.url}/openapi.json`, { headers: { 'x-api-key': KEY } })).json();
    assert.ok(!Object.keys(spec.paths).some((p) => p.startsWith('/console')));
  });

  it('declares the scheme in /openapi.json', async () => {
    const spec = await (await fetch(`${t.url}/openapi.json`, { headers: { 'x-api-key': KEY } })).json();
    assert.equal(spec.components.securitySchemes.bearerAuth.scheme, 'bearer');
    assert.equal(spec.components.securitySchemes.apiKeyHeader.name, 'X-API-Key');
    assert.deepEqual(spec.security, [{ bearerAuth: [] }, { apiKeyHeader: [] }]);
  });
});

describe('bodies, origins and hosts', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ modules: [demoModule], env: { CORS_ORIGINS: 'https://app.example.com', ALLOWED_HOSTS: '127.0.0.1,app.example.com,::1' } });
  });
  after(() => t?.close());

  it('reads JSON under any type or none from clients that are not browser pages, as curl -d sends it', async () => {
    for (const [i, type] of [
      'application/x-www-form-urlencoded', // curl -XPOST … -d '{…}', the nameko-devex smoke test of 2020
      undefined,
      'text/plain;charset=UTF-8', // Node's fetch with a string body
      'application/json',
      'Application/JSON; charset=utf-8',
      'application/vnd.api+json',
    ].entries()) {
      const res = await rawRequest(t.url, 'POST', '/demo/items', JSON.stringify({ id: `ok${i}`, name: 'x' }), type ? { 'content-type': type } : {});
      assert.equal(res.status, 201, `${type}: ${res.text}`);
      assert.equal((await fetch(`${t.url}/demo/items/ok${i}`)).status, 200, type);
    }
    const form = await rawRequest(t.url, 'POST', '/demo/items', 'id=form&name=x', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.deepEqual([form.status, JSON.parse(form.text).error], [400, 'BAD_REQUEST']);
    const latin1 = await rawRequest(t.url, 'POST', '/demo/items', '{"id":"l1","name":"x"}', { 'content-type': 'application/json; charset=latin1' });
    assert.deepEqual([latin1.status, JSON.parse(latin1.text).error], [415, 'UNSUPPORTED_MEDIA_TYPE']);
    assert.equal((await fetch(`${t.url}/demo/items/form`)).status, 404);
    assert.equal((await fetch(`${t.url}/demo/items/l1`)).status, 404);
  });

  it('refuses writes from browser pages on other origins with 403 and stores nothing, whatever the type', async () => {
    const host = new URL(t.url).host;
    const refused: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example.com' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'http://other.127.0.0.1.nip.io' },
      // Browsers before Sec-Fetch-Site (2023): Origin alone.
      { origin: 'https://evil.example.com' },
      { origin: 'null' },
      { origin: `https://${host}.evil.net` },
      { origin: 'https://app.example.com.evil.net' },
    ];
    for (const [i, headers] of refused.entries()) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json']) {
        const res = await rawRequest(t.url, 'POST', '/demo/items', JSON.stringify({ id: `x${i}`, name: 'x' }), { ...headers, 'content-type': type });
        assert.equal(res.status, 403, `${JSON.stringify(headers)} ${type}: ${res.text}`);
        assert.equal(JSON.parse(res.text).error, 'CROSS_ORIGIN_REQUEST');
      }
      assert.equal((await fetch(`${t.url}/demo/items/x${i}`)).status, 404, JSON.stringify(headers));
      // Reads stay open: a page cannot read the answer without CORS anyway.
      assert.equal((await rawRequest(t.url, 'GET', '/demo/items/ok0', undefined, headers)).status, 200);
    }
    const allowed: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'same-origin', origin: t.url },
      { 'sec-fetch-site': 'none' },
      { origin: t.url },
      { 'sec-fetch-site': 'cross-site', origin: 'https://app.example.com' },
      { 'sec-fetch-site': 'same-site', origin: 'https://APP.example.com' },
      { origin: 'https://app.example.com' },
    ];
    for (const [i, headers] of allowed.entries()) {
      const res = await rawRequest(t.url, 'POST', '/demo/items', JSON.stringify({ id: `y${i}`, name: 'y' }), { ...headers, 'content-type': 'text/plain' });
      assert.equal(res.status, 201, `${JSON.stringify(headers)}: ${res.text}`);
    }
  });

  it('sends CORS headers to listed origins only', async () => {
    const listed = await fetch(`${t.url}/demo/items/ok0`, { headers: { origin: 'https://app.example.com' } });
    assert.equal(listed.headers.get('access-control-allow-origin'), 'https://app.example.com');
    const preflight = await fetch(`${t.url}/demo/items`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /content-type/);
    for (const origin of ['https://evil.example.com', 'null', 'https://app.example.com.evil.net']) {
      const other = await fetch(`${t.url}/demo/items/ok0`, { headers: { origin } });
      assert.equal(other.headers.get('access-control-allow-origin'), null, origin);
      const otherPreflight = await fetch(`${t.url}/demo/items`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      assert.equal(otherPreflight.headers.get('access-control-allow-origin'), null, origin);
      assert.equal(otherPreflight.headers.get('access-control-allow-methods'), null, origin);
    }
  });

  it('answers a Host outside ALLOWED_HOSTS with 421, except the probes', async () => {
    const evil = await rawRequest(t.url, 'GET', '/demo/items/ok0', undefined, { host: 'rebind.attacker.net' });
    assert.equal(evil.status, 421);
    assert.equal(JSON.parse(evil.text).error, 'MISDIRECTED_REQUEST');
    assert.equal((await rawRequest(t.url, 'GET', '/demo/items/ok0', undefined, { host: 'APP.example.com:8080' })).status, 200);
    assert.equal((await rawRequest(t.url, 'GET', '/demo/items/ok0', undefined, { host: '[::1]:8080' })).status, 200);
    assert.equal((await rawRequest(t.url, 'GET', '/demo/items/ok0', undefined, { host: 'app.example.com.attacker.net' })).status, 421);
    assert.equal((await rawRequest(t.url, 'GET', '/healthz', undefined, { host: 'rebind.attacker.net' })).status, 200);
  });
});
