// 20 benchmarks at once against one target host: no callback lands in the wrong benchmark, each ends with its own report and one email.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../../kernel/testing/index.ts';
import { startSmtp } from './testing/smtp.ts';
import { startBenchmarkApp, startBody, waitForEnd } from './testing/support.ts';

describe('concurrent benchmarks', () => {
  it('20 benchmarks × 10 documents on one target run side by side without mixing', async () => {
    const smtp = await startSmtp();
    const app = await startBenchmarkApp({ SMTP_URL: smtp.url, BENCHMARK_TARGET_DELAY_MS: '0-20', BENCHMARK_TARGET_CONCURRENCY: '32' });
    try {
      const started = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          app.api(
            'POST',
            '/api/v1/benchmarks/start',
            startBody(`${app.url}/target`, { name: `run ${i}`, documents: { count: 10 }, notify: [`run${i}@example.com`] }),
          ),
        ),
      );
      assert.deepEqual(
        started.map((s) => s.status),
        new Array(20).fill(202),
      );
      const ids = started.map((s) => s.body.benchmark_id as string);
      const views = await Promise.all(ids.map((id) => waitForEnd(app.api, id, 60_000)));
      const db = app.kernel.databases.get('benchmark')!.db;
      const projects = new Set<string>();
      for (const [i, view] of views.entries()) {
        assert.equal(view.status, 'completed', `run ${i}: ${view.error}`);
        assert.deepEqual(view.progress, { done: 10, total: 10 });
        const row = await db.selectFrom('benchmarks').select('project_id').where('id', '=', ids[i]).executeTakeFirstOrThrow();
        projects.add(row.project_id);
        const csv = (await app.api('GET', `/api/v1/benchmarks/${ids[i]}/report.csv`)).text.trimEnd().split('\r\n');
        assert.equal(csv.length, 11);
        assert.ok(csv.slice(1).every((l) => l.startsWith(`run ${i},`)));
      }
      assert.equal(projects.size, 20, 'one project per benchmark');
      await waitFor('20 emails', () => smtp.mails.length >= 20, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(smtp.mails.length, 20);
      assert.deepEqual(smtp.mails.map((m) => m.to[0]).sort(), Array.from({ length: 20 }, (_, i) => `run${i}@example.com`).sort());
      const reports = Number(
        (
          await db
            .selectFrom('reports')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
      assert.equal(reports, 20);
    } finally {
      await app.close();
      await smtp.close();
    }
  });
});
