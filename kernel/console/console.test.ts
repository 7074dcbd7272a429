// The console in a real headless Chromium (playwright-core, Debian's chromium): log in once, open every page, replay a
// dead letter (an email SMTP refused) once SMTP is back and see exactly one email arrive; a split's topology shows both
// processes; a page of another origin and a request without the token change nothing.
// CONSOLE_SCREENSHOTS=docs/console writes a screenshot of each page there (docs/console.md shows them).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startSmtp, type TestSmtp } from '../../modules/benchmark/testing/smtp.ts';
import { FAST, startBody } from '../../modules/benchmark/testing/support.ts';
import { allModules } from '../registry.ts';
import { CHROMIUM_PATH, gate, ROOT, spawnApp, startTestApp, waitFor, type SpawnedApp, type TestApp } from '../testing/index.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver.ts';
import { rawRequest } from '../testing/raw-http.ts';

const TOKEN = 'console-token-0123456789';
const SHOTS = process.env.CONSOLE_SCREENSHOTS;

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  const dir = join(ROOT, SHOTS);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

describe('the console in a browser', await gate('chromium'), () => {
  let smtp: TestSmtp;
  let otlp: OtlpReceiver;
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let evilPages: Server;
  let evil: string;
  let benchmarkId: string;

  before(async () => {
    smtp = await startSmtp();
    otlp = await startOtlpReceiver();
    app = await startTestApp({
      env: {
        ...FAST,
        CONSOLE_TOKEN: TOKEN,
        SMTP_URL: smtp.url,
        // The email is retried this long, then dead-lettered: quickly, for the test.
        BENCHMARK_MAIL_RETRY_MS: '300',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    evilPages = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another site</title>'));
    await new Promise<void>((resolve) => evilPages.listen(0, '127.0.0.1', resolve));
    evil = `http://evil.localhost:${(evilPages.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--host-resolver-rules=MAP *.localhost 127.0.0.1'] });
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await smtp?.close();
    await otlp?.close();
    evilPages?.close();
  });

  it('asks for the token once, and keeps it in an HttpOnly, SameSite=Strict cookie', async () => {
    const first = await page.goto(`${app.url}/console`);
    assert.equal(first?.status(), 401);
    await shot(page, 'login');
    await page.fill('input[name=token]', 'wrong-token-0123456789');
    await page.click('button');
    assert.match((await page.textContent('main')) ?? '', /Wrong token/);
    await page.fill('input[name=token]', TOKEN);
    await page.click('button');
    assert.equal(new URL(page.url()).pathname, '/console');
    assert.match((await page.textContent('h1')) ?? '', /Topology/);
    const [cookie] = await context.cookies();
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/console');
    assert.ok(!cookie.value.includes(TOKEN), 'the cookie is not the token');
    // Asked once: a new page of the same browser goes straight in.
    const again = await context.newPage();
    assert.equal((await again.goto(`${app.url}/console/bus`))?.status(), 200);
    await again.close();
  });

  it('shows some data of every module, a benchmark whose email is refused becomes a dead letter', async () => {
    // Data for the Modules page: each module's own smoke run (the benchmark one below, with SMTP refusing).
    for (const m of allModules.filter((x) => x.name !== 'benchmark')) await m.smoke?.(app.url, () => {});
    smtp.refuse = true;
    const started = await fetch(`${app.url}/api/v1/benchmarks/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(startBody(`${app.url}/target`, { notify: ['qa@example.com'], documents: { count: 8 } })),
    });
    assert.equal(started.status, 202);
    benchmarkId = (await started.json()).benchmark_id;
    const bus = app.kernel.bus()!;
    await waitFor('the dead letter', async () => (await bus.deadLetters()).length === 1, 20_000);
    assert.equal(smtp.mails.length, 0);
  });

  it('opens each page', async () => {
    for (const [path, heading, text] of [
      ['/console/topology', 'Topology', /benchmark\.notifier/],
      ['/console/bus', 'Bus', /benchmark\.report_completed/],
      ['/console/traces', 'Traces', /POST \/api\/v1\/benchmarks\/start/],
      ['/console/modules', 'Modules', /Benchmark Latency for release/],
      ['/console/mail', 'Mail', /Benchmark Report: Benchmark Latency/],
    ] as const) {
      const res = await page.goto(`${app.url}${path}`);
      assert.equal(res?.status(), 200, path);
      assert.equal(await page.textContent('h1'), heading);
      assert.match((await page.textContent('main')) ?? '', text, path);
      assert.equal(await page.locator('script').count(), 0, 'no script on the page');
      await shot(page, path.split('/').pop()!);
    }
    for (const title of ['Stock', 'Cache keys', 'Stored events', 'Benchmarks', 'Threads and votes', 'Projects'])
      assert.ok(await page.goto(`${app.url}/console/modules`).then(() => page.locator('h3', { hasText: title }).count()), title);
  });

  it('draws the waterfall of a trace, with the spans of its processes and its links', async () => {
    await page.goto(`${app.url}/console/traces`);
    await page.click('a:has-text("POST /api/v1/benchmarks/start")');
    assert.match(new URL(page.url()).pathname, /^\/console\/traces\/[0-9a-f]{32}$/);
    assert.equal((await page.locator('main svg rect[fill]').count()) > 3, true);
    assert.match((await page.textContent('main')) ?? '', /publish benchmark\.benchmark_created/);
    await shot(page, 'trace');
  });

  it('a page of another site, or a request without the token, changes nothing', async () => {
    const [dead] = await app.kernel.bus()!.deadLetters();
    const action = `${app.url}/console/bus/dead-letters/${dead.id}/discard`;
    // A form another site's page submits: no cookie goes along (SameSite=Strict), and its origin is refused.
    const other = await context.newPage();
    await other.goto(`${evil}/`);
    const answer = other.waitForResponse((r) => r.url() === action);
    await other.evaluate((url) => {
      const form = Object.assign(document.createElement('form'), { method: 'POST', action: url });
      document.body.append(form);
      form.submit();
    }, action);
    assert.equal((await answer).status(), 403);
    await other.close();
    // The cookie itself, but sent from another origin: refused before anything is read.
    const [cookie] = await context.cookies();
    const headers = { cookie: `${cookie.name}=${cookie.value}` };
    const foreign: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site', origin: evil },
      { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:1' },
      { origin: evil },
    ];
    for (const from of foreign)
      assert.equal((await rawRequest(app.url, 'POST', new URL(action).pathname, '', { ...headers, ...from })).status, 403, JSON.stringify(from));
    // No token: 401, whether it is a browser page of this origin or a script.
    const anonymous: Array<Record<string, string>> = [
      {},
      { 'sec-fetch-site': 'same-origin', origin: app.url },
      { cookie: `${cookie.name}=forged` },
      { authorization: `Bearer ${TOKEN}` },
    ];
    for (const h of anonymous) assert.equal((await rawRequest(app.url, 'POST', new URL(action).pathname, '', h)).status, 401, JSON.stringify(h));
    assert.equal((await app.kernel.bus()!.deadLetters()).length, 1, 'the dead letter is still there');
    assert.equal(smtp.mails.length, 0);
  });

  it('replays the dead letter once SMTP is back: exactly one email at the SMTP server, and the action logged with who', async () => {
    smtp.refuse = false;
    await page.goto(`${app.url}/console/bus`);
    const form = page.locator('form[action$="/replay"]');
    assert.equal(await form.count(), 1);
    const replayPath = (await form.getAttribute('action'))!;
    await form.locator('button').click();
    assert.match((await page.textContent('.done')) ?? '', /replayed/);
    await waitFor('the email', () => smtp.mails.length >= 1, 10_000);
    // Posting the same replay again (a reload, a second tab) finds nothing to do.
    const again = await page.request.post(`${app.url}${replayPath}`, { headers: { origin: app.url }, maxRedirects: 0 });
    assert.equal(again.status(), 303);
    await page.goto(`${app.url}${again.headers().location}`);
    assert.match((await page.textContent('.done')) ?? '', /nothing done/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(smtp.mails.length, 1, 'exactly one email');
    assert.ok(smtp.mails[0].raw.includes(`benchmark-${benchmarkId}@cantons`));
    assert.deepEqual(await app.kernel.bus()!.deadLetters(), []);
    assert.match((await page.textContent('main')) ?? '', /CONSOLE_TOKEN \(/, 'the actions table names who did it');
    await shot(page, 'bus-after-replay');
    await page.goto(`${app.url}/console/mail`);
    assert.match((await page.textContent('main')) ?? '', /sent/);
    await shot(page, 'mail');
  });

  it('resends the email from the Modules page: one more', async () => {
    await page.goto(`${app.url}/console/modules`);
    await page.locator('form[action="/console/modules/benchmark.notifier/resend"] button').first().click();
    assert.match((await page.textContent('.done')) ?? '', /queued for 1 recipient/);
    await waitFor('the second email', () => smtp.mails.length === 2, 10_000);
  });

  it('logs out', async () => {
    await page.goto(`${app.url}/console`);
    await page.click('header button');
    assert.equal(new URL(page.url()).pathname, '/console/login');
    assert.equal((await page.goto(`${app.url}/console/bus`))?.status(), 401);
  });
});

describe('the console of a split deployment', await gate('chromium'), () => {
  let storage: SpawnedApp;
  let receiver: SpawnedApp;
  let browser: Browser;
  before(async () => {
    storage = await spawnApp({ MODULES: 'events.storage' });
    receiver = await spawnApp({ MODULES: 'events.receiver', EVENTS_STORAGE_URL: storage.url });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH });
  });
  after(async () => {
    await browser?.close();
    await receiver?.stop();
    await storage?.stop();
  });

  it('shows both processes on the topology page (loopback, no token)', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    assert.equal((await page.goto(`${receiver.url}/console/topology`))?.status(), 200);
    const rows = await page.locator('h2:has-text("Processes") + p + table tr').allTextContents();
    assert.equal(rows.length, 3, rows.join('\n'));
    assert.match(rows[1], /^this process\s*events\.receiver\s*ready/);
    assert.match(rows[2], new RegExp(`^${storage.url.replace(/[.]/g, '\\.')}\\s*events\\.storage\\s*ready`));
    assert.match((await page.textContent('svg')) ?? '', /events\.storage/);
    await shot(page, 'topology-split');
    await page.close();
  });
});
