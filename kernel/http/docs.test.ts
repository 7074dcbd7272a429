// /docs in a real browser (Debian's headless Chromium): Swagger UI loads the document, and an example naming this
// process at npm start's address names it at the page's own origin instead (the benchmark's built-in target).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM_PATH, gate, startTestApp, type TestApp, waitFor } from '../testing/index.ts';
import { EXAMPLE_ORIGIN } from './route.ts';

describe('/docs', await gate('chromium'), () => {
  let app: TestApp;
  let browser: Browser;
  before(async () => {
    app = await startTestApp();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  it("shows startBenchmark's example target at the page's own origin; /openapi.json keeps npm start's", async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/docs`);
    const example = await waitFor('Swagger UI to load the document', () =>
      page.evaluate(
        () =>
          (window as any).ui?.specSelectors.specJson().toJS().paths?.['/api/v1/benchmarks/start']?.post.requestBody.content['application/json'].example
            .target_url,
      ),
    );
    assert.equal(example, `${app.url}/target`);
    const doc = await (await fetch(`${app.url}/openapi.json`)).json();
    assert.equal(doc.paths['/api/v1/benchmarks/start'].post.requestBody.content['application/json'].example.target_url, `${EXAMPLE_ORIGIN}/target`);
    await page.close();
  });
});
