// A real browser (Debian's headless Chromium, driven by playwright-core) on pages of other origins: what it sends for
// a write from another site is refused and stores nothing; a page on a CORS_ORIGINS origin and a same-origin page write.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { bootstrap } from '../bootstrap.ts';
import { demoModule } from '../fixtures/demo/index.ts';
import { listen, type Running } from '../server.ts';
import { CHROMIUM_PATH, gate, tempDir, waitFor } from '../testing/index.ts';

/** A request to the API as the browser sent it (headers as they arrived), and its status as the browser saw it. */
interface Seen {
  method: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

describe('writes from a browser page', await gate('chromium'), () => {
  let app: Running;
  // The headers that reached the API, by path and query (each test request has its own): the browser's own report of
  // what it sent lacks Sec-Fetch-Site and Origin at times.
  const arrived = new Map<string, Seen['headers']>();
  let pages: Server;
  let browser: Browser;
  // Sites of their own on loopback: the API at 127.0.0.1, pages at *.localhost (another site) and at 127.0.0.1 (another
  // port: the same site). Chromium sends Sec-Fetch-Site only to trustworthy origins (https, loopback), so the API
  // reached as http://api.test gets Origin alone, as from a browser before 2023.
  let api: string;
  let evil: string;
  let listed: string;
  let sibling: string;

  before(async () => {
    pages = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>a page</title>'));
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    const port = (pages.address() as AddressInfo).port;
    evil = `http://evil.localhost:${port}`;
    listed = `http://app.localhost:${port}`;
    sibling = `http://127.0.0.1:${port}`;
    const kernel = bootstrap({ modules: [demoModule], env: { LOG_LEVEL: 'silent', DATA_DIR: tempDir(), CORS_ORIGINS: listed } });
    app = await listen(kernel, 0, '127.0.0.1');
    app.server.prependListener('request', (req) => arrived.set(`${req.method} ${req.url}`, req.headers));
    await kernel.start();
    api = `http://127.0.0.1:${app.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--host-resolver-rules=MAP *.localhost 127.0.0.1,MAP *.test 127.0.0.1'] });
  });
  after(async () => {
    await browser?.close();
    await app?.shutdown();
    pages?.close();
  });

  /** A fresh page at `url`, and every answer the API gave it with the headers Chromium sent. */
  async function open(url: string): Promise<{ page: Page; seen: Seen[] }> {
    const page = await browser.newPage();
    const seen: Seen[] = [];
    page.on('response', (res) => {
      const url = new URL(res.url());
      const method = res.request().method();
      if (url.port === String(app.port)) seen.push({ method, status: res.status(), headers: arrived.get(`${method} ${url.pathname}${url.search}`) ?? {} });
    });
    await page.goto(url);
    return { page, seen };
  }

  const stored = async (id: string) => (await fetch(`${api}/demo/items/${id}`)).status === 200;

  it('refuses a fetch without preflight (text/plain, a form type) from another site, and stores nothing', async () => {
    const { page, seen } = await open(`${evil}/`);
    for (const [i, type] of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'].entries()) {
      await page.evaluate(
        ([url, body, type]) => fetch(url, { method: 'POST', mode: 'no-cors', headers: { 'content-type': type }, body }).then(() => undefined),
        [`${api}/demo/items?n=nc${i}`, JSON.stringify({ id: `nc${i}`, name: 'x' }), type],
      );
      assert.equal(await stored(`nc${i}`), false, type);
    }
    await waitFor('three answers', () => seen.length === 3);
    for (const s of seen) {
      assert.equal(s.headers['sec-fetch-site'], 'cross-site', 'the premise: Chromium declares the page another site');
      assert.deepEqual([s.method, s.status], ['POST', 403]);
    }
    await page.close();
  });

  it('refuses a write from the same site on another port (Sec-Fetch-Site: same-site), and stores nothing', async () => {
    const { page, seen } = await open(`${sibling}/`);
    await page.evaluate(
      ([url, body]) => fetch(url, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }).then(() => undefined),
      [`${api}/demo/items?n=sibling`, JSON.stringify({ id: 'sibling', name: 'x' })],
    );
    await waitFor('the answer', () => seen.length === 1);
    assert.equal(seen[0].headers['sec-fetch-site'], 'same-site', 'the premise');
    assert.equal(seen[0].status, 403);
    assert.equal(await stored('sibling'), false);
    await page.close();
  });

  it('refuses a form the page submits (text/plain shaped as JSON, urlencoded), and stores nothing', async () => {
    const { page, seen } = await open(`${evil}/`);
    for (const enctype of ['text/plain', 'application/x-www-form-urlencoded']) {
      // The classic: a text/plain form whose one field reads, with its `=`, as JSON: {"id":"form","name":"x="}.
      const action = `${api}/demo/items?n=${encodeURIComponent(enctype)}`;
      const answer = page.waitForResponse((r) => r.url() === action);
      await page.evaluate(
        ([action, enctype]) => {
          const form = Object.assign(document.createElement('form'), { method: 'POST', action, enctype });
          form.append(Object.assign(document.createElement('input'), { name: '{"id":"form","name":"x', value: '"}' }));
          document.body.append(form);
          form.submit();
        },
        [action, enctype],
      );
      assert.equal((await answer).status(), 403, enctype);
      assert.match(await (await answer).text(), /CROSS_ORIGIN_REQUEST/);
      await page.goto(`${evil}/`);
    }
    assert.equal(await stored('form'), false);
    assert.ok(seen.every((s) => s.headers['sec-fetch-site'] === 'cross-site'));
    await page.close();
  });

  it('refuses the same write by its Origin where Chromium sends no Sec-Fetch-Site (an API at a plain-http name)', async () => {
    const { page, seen } = await open(`${evil}/`);
    await page.evaluate(
      ([url, body]) => fetch(url, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }).then(() => undefined),
      [`http://api.test:${app.port}/demo/items?n=old`, JSON.stringify({ id: 'old', name: 'x' })],
    );
    await waitFor('the answer', () => seen.length === 1);
    assert.equal(seen[0].headers['sec-fetch-site'], undefined, 'the premise: no Sec-Fetch-Site reached the API');
    assert.equal(seen[0].headers.origin, evil);
    assert.equal(seen[0].status, 403);
    assert.equal(await stored('old'), false);
    await page.close();
  });

  it('sends no JSON write at all from an unlisted site: its preflight gets no CORS answer', async () => {
    const { page, seen } = await open(`${evil}/`);
    const error = await page.evaluate(
      ([url, body]) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
          () => 'sent',
          (err: Error) => err.name,
        ),
      [`${api}/demo/items?n=json`, JSON.stringify({ id: 'json', name: 'x' })],
    );
    assert.equal(error, 'TypeError');
    assert.equal(arrived.get('OPTIONS /demo/items?n=json')?.origin, evil, 'the premise: the preflight was asked');
    assert.ok(!seen.some((s) => s.method === 'POST'));
    assert.equal(await stored('json'), false);
    await page.close();
  });

  it('lets a page on a CORS_ORIGINS origin write JSON and read the answer', async () => {
    const { page, seen } = await open(`${listed}/`);
    const answer = await page.evaluate(
      ([url, body]) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => [r.status, await r.json()]),
      [`${api}/demo/items?n=friend`, JSON.stringify({ id: 'friend', name: 'x' })],
    );
    assert.deepEqual(answer, [201, { id: 'friend' }]);
    assert.equal(seen.find((s) => s.method === 'POST')?.headers['sec-fetch-site'], 'cross-site');
    assert.equal(await stored('friend'), true);
    await page.close();
  });

  it("lets the API's own page (/docs, same origin) write", async () => {
    const { page, seen } = await open(`${api}/docs`);
    const status = await page.evaluate(
      (body) => fetch('/demo/items?n=own', { method: 'POST', headers: { 'content-type': 'text/plain' }, body }).then((r) => r.status),
      JSON.stringify({ id: 'own', name: 'x' }),
    );
    assert.equal(status, 201);
    assert.equal(seen.find((s) => s.method === 'POST')?.headers['sec-fetch-site'], 'same-origin');
    assert.equal(await stored('own'), true);
    await page.close();
  });
});
