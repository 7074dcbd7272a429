// Failures end a benchmark with a partial report and one notification: timeouts, a refused login, an unreachable or failing
// target; an expired session logs in again; SMTP down is retried by itself, dead-lettered after its window, replayed — and
// blocks no other benchmark. A failure's public error names the step only (the server log has the rest).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteRedisKeys, freePort, gate, REDIS_URL, uniqueName, waitFor } from '../../kernel/testing/index.ts';
import { createTargetClient } from './api/target-client.ts';
import { createTargetPolicy } from './target-policy.ts';
import { startSmtp, type TestSmtp } from './testing/smtp.ts';
import { startBenchmarkApp, startBody, waitForEnd, type BenchApp } from './testing/support.ts';

const redis = await gate('redis');

describe('benchmark faults', () => {
  let smtp: TestSmtp;
  before(async () => {
    smtp = await startSmtp();
  });
  after(() => smtp.close());

  async function run(app: BenchApp, targetUrl: string, extra: Record<string, unknown> = {}) {
    const started = await app.api('POST', '/api/v1/benchmarks/start', startBody(targetUrl, { notify: ['qa@example.com'], ...extra }));
    assert.equal(started.status, 202, started.text);
    return { id: started.body.benchmark_id as string, view: await waitForEnd(app.api, started.body.benchmark_id, 20_000) };
  }

  async function mailsFor(id: string, count = 1) {
    await waitFor(`${count} email(s) for ${id}`, () => smtp.mails.filter((m) => m.raw.includes(`benchmark-${id}@cantons`)).length >= count, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    return smtp.mails.filter((m) => m.raw.includes(`benchmark-${id}@cantons`));
  }

  it('documents that never call back fail the benchmark at its timeout, with a partial report', async () => {
    const app = await startBenchmarkApp({ SMTP_URL: smtp.url, BENCHMARK_TARGET_FAULT_SILENT: '0.5' });
    try {
      const { id, view } = await run(app, `${app.url}/target`, { documents: { count: 12 }, timeout_seconds: 1.5 });
      assert.equal(view.status, 'failed');
      assert.match(view.error, /^timeout: \d+ of 12 documents without both callbacks after 1.5 s$/);
      assert.ok(view.progress.done < 12, 'some documents never called back');
      const csv = (await app.api('GET', `/api/v1/benchmarks/${id}/report.csv`)).text.trimEnd().split('\r\n');
      assert.equal(csv.length, 13, 'every document is a row, the missing ones with an empty time');
      assert.ok(csv.some((l) => l.endsWith(',')));
      const json = (await app.api('GET', `/api/v1/benchmarks/${id}/report.json`)).body;
      assert.equal(json.status, 'failed');
      assert.equal(json.summary.failed, 12 - view.progress.done);
      assert.equal(json.thresholds, 'failed');
      const mails = await mailsFor(id);
      assert.equal(mails.length, 1);
      assert.match(mails[0].raw, /failed/);
    } finally {
      await app.close();
    }
  });

  it('a target refusing the login fails the benchmark at once, without retrying the refusal', async () => {
    const target = await startBenchmarkApp({ MODULES: 'benchmark.target', BENCHMARK_TARGET_PASSWORD: 'the-only-one' });
    const app = await startBenchmarkApp({ SMTP_URL: smtp.url });
    try {
      const { id, view } = await run(app, target.url);
      assert.equal(view.status, 'failed');
      assert.equal(view.error, 'login: the target call failed');
      assert.equal((await app.api('GET', `/api/v1/benchmarks/${id}/report.json`)).body.status, 'failed');
      assert.equal((await mailsFor(id)).length, 1);
    } finally {
      await app.close();
      await target.close();
    }
  });

  it('an unreachable target fails the benchmark after the retries; a target answering 500 too', async () => {
    const app = await startBenchmarkApp({ SMTP_URL: smtp.url, BENCHMARK_HTTP_RETRIES: '2' });
    const failing = await startBenchmarkApp({ MODULES: 'benchmark.target', BENCHMARK_TARGET_FAULT_ERROR: '1' });
    try {
      const closed = await freePort();
      const unreachable = await run(app, `127.0.0.1:${closed}`);
      assert.equal(unreachable.view.status, 'failed');
      assert.equal(unreachable.view.error, 'login: the target call failed');
      const erroring = await run(app, failing.url);
      assert.equal(erroring.view.status, 'failed');
      assert.equal(erroring.view.error, 'upload: the target call failed');
      assert.equal((await mailsFor(erroring.id)).length, 1);
    } finally {
      await failing.close();
      await app.close();
    }
  });

  it('a target that does not answer in time is a timeout, retried, then a failure', async () => {
    const app = await startBenchmarkApp({ BENCHMARK_HTTP_TIMEOUT_MS: '100', BENCHMARK_HTTP_RETRIES: '1' });
    // A socket that accepts and never answers.
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const { view } = await run(app, `127.0.0.1:${(silent.address() as { port: number }).port}`);
      assert.equal(view.error, 'login: the target call failed');
    } finally {
      silent.close();
      await app.close();
    }
  });

  it('an expired session ("Token has expired.") logs in again once', async () => {
    const target = await startBenchmarkApp({ MODULES: 'benchmark.target', BENCHMARK_TARGET_SESSION_MS: '50' });
    try {
      const policy = createTargetPolicy({ host: '127.0.0.1', port: 0 });
      const client = createTargetClient({ baseUrl: target.url, username: 'u', password: 'p', timeoutMs: 1000, retries: 0, policy });
      await client.login();
      await new Promise((r) => setTimeout(r, 120));
      assert.match(await client.createProject('p', 'latency'), /^\d+$/);
    } finally {
      await target.close();
    }
  });

  it('SMTP refusing mail past the retry window: dead-lettered without blocking other benchmarks; the replay sends it once', async () => {
    const app = await startBenchmarkApp({ SMTP_URL: smtp.url, BENCHMARK_MAIL_RETRY_MS: '1500' });
    try {
      smtp.refuse = true;
      const first = await run(app, `${app.url}/target`);
      assert.equal(first.view.status, 'completed');
      const bus = app.kernel.bus()!;
      await waitFor('the dead letter', async () => (await bus.deadLetters()).length === 1, 10_000);
      const [dead] = await bus.deadLetters();
      assert.equal(dead.topic, 'benchmark.report_completed');
      assert.equal(dead.consumer, 'benchmark.notifier');
      assert.ok(dead.attempts >= 2, `retried by itself first (${dead.attempts} attempts)`);
      assert.match(dead.error, /^report email not sent after \d+ attempts: /);
      // Another benchmark runs to its report meanwhile.
      const second = await run(app, `${app.url}/target`);
      assert.equal(second.view.status, 'completed');
      await waitFor('the second dead letter', async () => (await bus.deadLetters()).length === 2, 10_000);
      assert.equal(smtp.mails.filter((m) => m.raw.includes(first.id) || m.raw.includes(second.id)).length, 0);
      smtp.refuse = false;
      assert.deepEqual(await bus.replay(), { replayed: 2, failed: 0 });
      assert.equal((await mailsFor(first.id)).length, 1);
      assert.equal((await mailsFor(second.id)).length, 1);
      assert.deepEqual(await bus.deadLetters(), []);
      // Exactly one each, however often replayed or swept.
      assert.deepEqual(await bus.replay(), { replayed: 0, failed: 0 });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await mailsFor(first.id)).length, 1);
    } finally {
      smtp.refuse = false;
      await app.close();
    }
  });

  it('on Redis Streams an email being retried holds up no other benchmark, and goes out by itself when SMTP is back', redis, async () => {
    const prefix = uniqueName('cantons-test-benchmark-smtp');
    const app = await startBenchmarkApp({ SMTP_URL: smtp.url, EVENT_BUS_URL: REDIS_URL, BUS_STREAM_PREFIX: prefix });
    try {
      smtp.refuse = true;
      const first = await run(app, `${app.url}/target`);
      assert.equal(first.view.status, 'completed');
      const t0 = Date.now();
      const second = await run(app, `${app.url}/target`);
      assert.equal(second.view.status, 'completed');
      const took = Date.now() - t0;
      assert.equal((await app.kernel.bus()!.deadLetters()).length, 0, 'the first email is still being retried');
      assert.ok(took < 4000, `the second benchmark took ${took} ms`);
      smtp.refuse = false;
      await mailsFor(first.id);
      await mailsFor(second.id);
    } finally {
      smtp.refuse = false;
      await app.close();
      await deleteRedisKeys(prefix);
    }
  });
});
