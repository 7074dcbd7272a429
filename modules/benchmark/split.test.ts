// benchmark.target in its own process, and kill -9 of the benchmark process mid-run: after a restart the benchmark
// finishes with exactly one report and one email.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { deleteRedisKeys, ENGINES, freePort, gate, REDIS_URL, spawnApp, tempDir, uniqueName, waitFor, type SpawnedApp } from '../../kernel/testing/index.ts';
import { startSmtp } from './testing/smtp.ts';
import { api, startBody, waitForEnd } from './testing/support.ts';

const started: SpawnedApp[] = [];
after(() => Promise.all(started.map((a) => a.kill())));

async function spawn(env: Record<string, string>): Promise<SpawnedApp> {
  const app = await spawnApp({ BUS_POLL_MS: '20', BENCHMARK_SWEEP_MS: '50', ...env });
  started.push(app);
  return app;
}

const reportFiles = (dir: string, id: string) =>
  readdirSync(join(dir, 'reports'))
    .filter((f) => f.includes(id))
    .sort();

// The role planner asks for a shared bus whenever a module's roles are split, so both runs use Redis Streams.
describe('benchmark split', await gate('postgres', 'redis'), () => {
  for (const engine of ENGINES) {
    it(`the target in its own process (${engine.name}, Redis Streams)`, async () => {
      const database = await engine.prepare('benchmark_split');
      const prefix = uniqueName('cantons-test-benchmark-split');
      const shared = { EVENT_BUS_URL: REDIS_URL, BUS_STREAM_PREFIX: prefix, ...database.env };
      const smtp = await startSmtp();
      try {
        const apiPort = await freePort();
        const bench = await spawn({ ...shared, PORT: String(apiPort), MODULES: 'benchmark.api,benchmark.notifier', SMTP_URL: smtp.url });
        const target = await spawn({ ...shared, MODULES: 'benchmark.target', BENCHMARK_CALLBACK_URL: bench.url, BENCHMARK_TARGET_DELAY_MS: '10-50' });
        const call = api(bench.url);
        // Each process serves its own role only; the target alone sits at the root.
        assert.equal((await api(target.url)('GET', '/health')).status, 200);
        assert.equal((await api(target.url)('GET', '/api/v1/health')).status, 404);
        assert.equal((await call('GET', '/target/health')).status, 404);

        const s = await call('POST', '/api/v1/benchmarks/start', startBody(new URL(target.url).host, { documents: { count: 8 }, notify: ['qa@example.com'] }));
        assert.equal(s.status, 202, s.text);
        const view = await waitForEnd(call, s.body.benchmark_id, 30_000);
        assert.equal(view.status, 'completed', view.error);
        assert.deepEqual(view.progress, { done: 8, total: 8 });
        await waitFor('the email', () => smtp.mails.length === 1, 10_000);
      } finally {
        await smtp.close();
        for (const a of started.splice(0)) await a.stop();
        await deleteRedisKeys(prefix);
        await database.cleanup();
      }
    });
  }
});

// Seen failing? Not cleanly. With the report guard broken (flow.ts report(): the `status !== 'running'` check gone,
// insertReport's answer ignored, a second report's files written under a name of their own — 2026-12-01), the
// SQLite kills stayed green in 3 of 3 runs and the Postgres one went red in 1 of 4 (that red's cause was not
// captured; green in the 3 others). In these kills no event reaches the report handler twice: the process dies
// before AllDocumentsUploaded exists, and an event it had leased is delivered once after its lease. Nor can a
// kill make one: a handler killed before its commit leaves nothing to guard against, one killed after it is
// dropped by the kernel's inbox. So "one report" here rests on the inbox and the reports primary key; the
// handler's own guard is what replay.test.ts exercises (every event published again with new ids).
const [SQLITE, POSTGRES] = ENGINES;
const KILLS = [
  { when: 'right after the start', engine: SQLITE },
  { when: 'mid-run, between callbacks', engine: SQLITE },
  { when: 'mid-run, between callbacks', engine: POSTGRES },
];

describe('benchmark kill -9', await gate('redis', 'postgres'), () => {
  for (const { when, engine } of KILLS) {
    it(`kill -9 ${when}, restart: one report, one email (${engine.name})`, async () => {
      const smtp = await startSmtp();
      const dataDir = tempDir('cantons-benchmark-kill-');
      const prefix = uniqueName('cantons-test-benchmark-kill');
      const database = await engine.prepare('benchmark_kill');
      try {
        const port = String(await freePort());
        const bus = { EVENT_BUS_URL: REDIS_URL, BUS_STREAM_PREFIX: prefix, ...database.env };
        const env = { ...bus, PORT: port, DATA_DIR: dataDir, MODULES: 'benchmark.api,benchmark.notifier', SMTP_URL: smtp.url };
        let bench = await spawn(env);
        const target = await spawn({
          ...bus,
          MODULES: 'benchmark.target',
          BENCHMARK_CALLBACK_URL: bench.url,
          BENCHMARK_TARGET_DELAY_MS: '150-400',
          BENCHMARK_TARGET_CONCURRENCY: '2',
        });
        const call = api(bench.url);
        const s = await call('POST', '/api/v1/benchmarks/start', startBody(target.url, { documents: { count: 16 }, notify: ['qa@example.com'] }));
        assert.equal(s.status, 202);
        const id = s.body.benchmark_id;
        if (when.startsWith('mid'))
          await waitFor('a few callbacks', async () => (await call('GET', `/api/v1/benchmarks/${id}`)).body.progress.done >= 3, 15_000);
        const before = (await call('GET', `/api/v1/benchmarks/${id}`)).body;
        await bench.kill('SIGKILL');
        assert.equal(before.status, 'running', 'the kill landed before the end');
        assert.ok(before.progress.done < 16, `the kill landed mid-run (${before.progress.done} of 16 done)`);

        bench = await spawn(env);
        // An event the dead process had leased (outbox) or read (stream) waits out its 30 s lease or claim window.
        const view = await waitForEnd(call, id, 70_000);
        assert.equal(view.status, 'completed', view.error);
        assert.deepEqual(view.progress, { done: 16, total: 16 });
        const csv = (await call('GET', `/api/v1/benchmarks/${id}/report.csv`)).text.trimEnd().split('\r\n');
        assert.equal(csv.length, 17);
        assert.deepEqual(reportFiles(dataDir, id), [`benchmark-${id}.csv`, `benchmark-${id}.html`, `benchmark-${id}.json`]);
        await waitFor('the email', () => smtp.mails.length >= 1, 10_000);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(smtp.mails.length, 1);
        assert.equal(await bench.stop(), 0);
      } finally {
        await smtp.close();
        for (const a of started.splice(0)) await a.stop();
        await deleteRedisKeys(prefix);
        await database.cleanup();
      }
    });
  }
});
