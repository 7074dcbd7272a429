// Who reaches /console, without a browser: never off loopback without CONSOLE_TOKEN, never without the login (or the
// API key), never a write from another origin, never under a rebinding attacker's host name, never a secret on a page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bootstrap } from '../bootstrap.ts';
import { ConfigError } from '../config.ts';
import { demoModule } from '../fixtures/demo/index.ts';
import { listen } from '../server.ts';
import { startTestApp, tempDir, type TestApp } from '../testing/index.ts';
import { rawRequest } from '../testing/raw-http.ts';

const TOKEN = 'console-token-0123456789';
const KEY = 'api-key-0123456789abcdef';
const PAGES = ['/console', '/console/topology', '/console/bus', '/console/traces', '/console/modules', '/console/mail'];

async function login(url: string, form: string): Promise<{ status: number; cookie?: string; setCookie?: string }> {
  const res = await rawRequest(url, 'POST', '/console/login', form, { 'content-type': 'application/x-www-form-urlencoded', origin: url });
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0];
  return { status: res.status, setCookie, cookie: setCookie?.split(';')[0] };
}

describe('the console is not served', () => {
  it('on a HOST off loopback without CONSOLE_TOKEN: /console is a path like any other (404)', async () => {
    const kernel = bootstrap({ modules: [demoModule], env: { LOG_LEVEL: 'silent', DATA_DIR: tempDir(), HOST: '0.0.0.0' } });
    const running = await listen(kernel, 0, '127.0.0.1');
    try {
      await kernel.start();
      for (const path of PAGES) assert.equal((await fetch(`http://127.0.0.1:${running.port}${path}`)).status, 404, path);
    } finally {
      await running.shutdown();
    }
  });

  it('with a CONSOLE_TOKEN shorter than 16 characters: start-up refuses it', () => {
    assert.throws(
      () => bootstrap({ modules: [demoModule], env: { DATA_DIR: '/nonexistent', CONSOLE_TOKEN: 'short' } }),
      (err: unknown) => err instanceof ConfigError && /CONSOLE_TOKEN needs at least 16 characters/.test(err.message),
    );
  });
});

describe('with CONSOLE_TOKEN', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      env: {
        CONSOLE_TOKEN: TOKEN,
        RPC_TOKEN: 'rpc-token-0123456789abcdef',
        SMTP_URL: 'smtp://mailer:hunter2-smtp-secret@127.0.0.1:1',
        BENCHMARK_SECRET_KEY: 'ab'.repeat(32),
        CORS_ORIGINS: 'https://app.example.com',
      },
    });
  });
  after(() => t?.close());

  it('answers every page with the login form (401) and nothing of the process until the token came', async () => {
    for (const path of PAGES) {
      const res = await fetch(`${t.url}${path}`);
      const text = await res.text();
      assert.equal(res.status, 401, path);
      assert.match(text, /name="token"/);
      assert.doesNotMatch(text, /shop\.products|dead letter|benchmark/i, path);
    }
  });

  it('takes the token once: an HttpOnly, SameSite=Strict cookie that is not the token opens every page', async () => {
    assert.equal((await login(t.url, 'token=wrong-token-0123456789')).status, 401);
    const { status, setCookie, cookie } = await login(t.url, `token=${TOKEN}`);
    assert.equal(status, 303);
    assert.match(setCookie ?? '', /; Path=\/console; HttpOnly; SameSite=Strict/);
    assert.ok(cookie && !cookie.includes(TOKEN));
    for (const path of PAGES) assert.equal((await fetch(`${t.url}${path}`, { headers: { cookie: cookie! } })).status, 200, path);
  });

  it('refuses a login or an action from another origin, even with the cookie (403)', async () => {
    const { cookie } = await login(t.url, `token=${TOKEN}`);
    // A CORS_ORIGINS site may call the API from its pages; it may not drive the console.
    const listed = await rawRequest(t.url, 'POST', '/demo/nothing', '{}', { 'sec-fetch-site': 'cross-site', origin: 'https://app.example.com' });
    assert.notEqual(listed.status, 403, 'the premise: the API takes writes from the listed origin');
    for (const from of [
      { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site', origin: 'https://app.example.com' },
      { origin: 'https://app.example.com' },
    ] as Record<string, string>[]) {
      const res = await rawRequest(t.url, 'POST', '/console/login', `token=${TOKEN}`, { ...from, 'content-type': 'application/x-www-form-urlencoded' });
      assert.equal(res.status, 403, JSON.stringify(from));
      assert.equal(res.headers['set-cookie'], undefined);
      const act = await rawRequest(t.url, 'POST', '/console/modules/benchmark.notifier/resend', 'arg=x', { ...from, cookie: cookie! });
      assert.equal(act.status, 403);
    }
  });

  it('shows no secret on any page: not the token, the RPC token, the SMTP password, the benchmark key', async () => {
    const { cookie } = await login(t.url, `token=${TOKEN}`);
    for (const path of [...PAGES, '/console/login']) {
      const text = await (await fetch(`${t.url}${path}`, { headers: { cookie: cookie! } })).text();
      for (const secret of [TOKEN, 'rpc-token-0123456789abcdef', 'hunter2-smtp-secret', 'ab'.repeat(32)])
        assert.ok(!text.includes(secret), `${path} shows a secret`);
    }
  });

  it('sends headers that keep the pages out of frames, caches and scripts', async () => {
    const { cookie } = await login(t.url, `token=${TOKEN}`);
    const res = await fetch(`${t.url}/console/bus`, { headers: { cookie: cookie! } });
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'.*frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('is not public API: /openapi.json names no /console path', async () => {
    const spec = await (await fetch(`${t.url}/openapi.json`)).json();
    assert.deepEqual(
      Object.keys(spec.paths).filter((p) => p.startsWith('/console')),
      [],
    );
  });
});

describe('on loopback without CONSOLE_TOKEN', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ modules: [demoModule] });
  });
  after(() => t?.close());

  it('opens to loopback host names, and to no other name (DNS rebinding: 421)', async () => {
    for (const host of ['127.0.0.1:80', 'localhost:8080', '[::1]:8080'])
      assert.equal((await rawRequest(t.url, 'GET', '/console/bus', undefined, { host })).status, 200, host);
    for (const host of ['rebind.attacker.example:8080', '127.0.0.1.nip.io', 'localhost.attacker.example']) {
      assert.equal((await rawRequest(t.url, 'GET', '/console/bus', undefined, { host })).status, 421, host);
      const write = await rawRequest(t.url, 'POST', '/console/bus/dead-letters/1/discard', '', { host, origin: `http://${host}` });
      assert.equal(write.status, 421, host);
    }
  });
});

describe('a role elsewhere at a URL with credentials', () => {
  it('is shown by its address alone: no user, password, query or token', async () => {
    const t = await startTestApp({
      modules: [demoModule],
      env: { MODULES: 'demo.client', DEMO_API_URL: 'http://operator:url-secret-pw@127.0.0.1:1/base?token=query-secret-0123' },
    });
    try {
      const text = await (await fetch(`${t.url}/console/topology`)).text();
      assert.match(text, /http:\/\/127\.0\.0\.1:1\/base/);
      assert.match(text, /unreachable/);
      for (const secret of ['operator', 'url-secret-pw', 'query-secret-0123']) assert.ok(!text.includes(secret), secret);
    } finally {
      await t.close();
    }
  });
});

describe('with API_KEYS', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ modules: [demoModule], env: { API_KEYS: KEY } });
  });
  after(() => t?.close());

  it('asks for a key too: 401 without, a key header or the login with a key opens it', async () => {
    assert.equal((await fetch(`${t.url}/console/bus`)).status, 401);
    assert.equal((await fetch(`${t.url}/console/bus`, { headers: { 'x-api-key': 'not-the-key-0123456789' } })).status, 401);
    assert.equal((await fetch(`${t.url}/console/bus`, { headers: { 'x-api-key': KEY } })).status, 200);
    assert.equal((await login(t.url, 'key=not-the-key-0123456789')).status, 401);
    const { cookie } = await login(t.url, `key=${KEY}`);
    assert.equal((await fetch(`${t.url}/console/bus`, { headers: { cookie: cookie! } })).status, 200);
    assert.ok(!cookie!.includes(KEY));
  });
});
