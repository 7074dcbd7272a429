// Replays change nothing: a callback sent again (even with other times), concurrent copies of every callback, every
// event of the flow published again with a new id, and a redelivery with the same id — one report, one email; on SQLite and on Postgres.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeOutbox } from '../../kernel/bus/outbox.ts';
import type { Env } from '../../kernel/config.ts';
import { ENGINES, gate, waitFor } from '../../kernel/testing/index.ts';
import { EVENTS } from './contract.ts';
import { startSmtp } from './testing/smtp.ts';
import { startBenchmarkApp, startBody, waitForEnd, type BenchApp } from './testing/support.ts';

async function handled(app: BenchApp, topic: string): Promise<number> {
  const metric = await app.kernel.metrics.getSingleMetric('cantons_bus_events_handled_total')?.get();
  return metric?.values.filter((v) => v.labels.topic === topic).reduce((s, v) => s + v.value, 0) ?? 0;
}

/** cantons_benchmark_callbacks_total by outcome. */
async function outcomes(app: BenchApp): Promise<Record<string, number>> {
  const metric = await app.kernel.metrics.getSingleMetric('cantons_benchmark_callbacks_total')?.get();
  return Object.fromEntries(metric?.values.map((v) => [v.labels.outcome, v.value]) ?? []);
}

// On each engine: SQLite writes a callback's times through its prepared statements, Postgres through the query builder
// (api/callback-sql.ts), and each must leave a time once set.
for (const engine of ENGINES) {
  describe(`benchmark replays (${engine.name})`, await gate(...engine.needs), () => {
    /** The app on this engine; closing it drops its database. */
    async function start(env: Env): Promise<BenchApp> {
      const database = await engine.prepare('benchmark_replay');
      try {
        const app = await startBenchmarkApp({ ...database.env, ...env });
        return {
          ...app,
          async close() {
            await app.close();
            await database.cleanup();
          },
        };
      } catch (err) {
        await database.cleanup();
        throw err;
      }
    }

    it('replayed callbacks and replayed events leave one report and one email', async () => {
      const smtp = await startSmtp();
      // The built-in target never calls back: this test is the target, and sends every callback itself.
      const app = await start({ SMTP_URL: smtp.url, BENCHMARK_TARGET_FAULT_SILENT: '1' });
      const db = app.kernel.databases.get('benchmark')!.db;
      try {
        const started = await app.api('POST', '/api/v1/benchmarks/start', startBody(`${app.url}/target`, { notify: ['qa@example.com'] }));
        const id = started.body.benchmark_id;
        const row = await waitFor('the project', async () => {
          const b = await db.selectFrom('benchmarks').select(['project_id', 'target_host']).where('id', '=', id).executeTakeFirst();
          return b?.project_id ? b : undefined;
        });
        const callback = (name: string, times: { start_time?: number; end_time?: number }) =>
          app.api('POST', '/api/v1/benchmarks/documents/', {
            document_name: name,
            eigen_document_id: '10',
            eigen_project_id: String(row.project_id),
            benchmark_host_name: row.target_host,
            ...times,
          });

        assert.deepEqual((await callback('doc1.txt', { start_time: 1000 })).body, { status: 'applied' });
        assert.deepEqual((await callback('doc1.txt', { start_time: 1000 })).body, { status: 'duplicate' });
        assert.deepEqual((await callback('doc1.txt', { start_time: 999 })).body, { status: 'duplicate' }, 'the first time stays');
        assert.deepEqual(await outcomes(app), { applied: 1, duplicate: 2 }, 'the metric counts each outcome');
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(await handled(app, EVENTS.DocumentUpdated.name), 0, 'a start alone completes no document');

        // Every remaining callback five times at once.
        const all = [
          ['doc1.txt', { end_time: 1002.5 }],
          ['doc2.txt', { start_time: 1000 }],
          ['doc2.txt', { end_time: 1001 }],
          ['doc3.txt', { start_time: 1001 }],
          ['doc3.txt', { end_time: 1004 }],
        ] as const;
        const replies = await Promise.all(all.flatMap(([name, times]) => Array.from({ length: 5 }, () => callback(name, times))));
        assert.ok(
          replies.every((r) => r.status === 202 || r.status === 409),
          replies.map((r) => r.status).join(),
        );
        const view = await waitForEnd(app.api, id);
        assert.equal(view.status, 'completed');
        const counted = await outcomes(app);
        assert.equal(counted.applied, 6, 'one write per time of each document');
        assert.equal(counted.applied + (counted.duplicate ?? 0) + (counted.BENCHMARK_FINISHED ?? 0), 3 + replies.length);
        assert.deepEqual(
          view.documents.map((d: any) => d.upload_seconds),
          [2.5, 1, 3],
        );
        // One DocumentUpdated, from the batch that completed the last document — never one per copy (the original
        // published ten per callback).
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(await handled(app, EVENTS.DocumentUpdated.name), 1);
        await waitFor('the email', () => smtp.mails.length === 1, 10_000);
        const report = await db.selectFrom('reports').selectAll().where('benchmark_id', '=', id).executeTakeFirstOrThrow();

        // Every event of the flow again, with new ids, and one redelivery of an event already in the inbox.
        const before = Object.fromEntries(
          await Promise.all(
            Object.values(EVENTS)
              .map((t) => t.name)
              .map(async (t) => [t, await handled(app, t)] as const),
          ),
        );
        const seen = await db.selectFrom('inbox').select('event_id').where('consumer', '=', 'benchmark.notifier').limit(1).executeTakeFirstOrThrow();
        for (const topic of Object.values(EVENTS).map((t) => t.name)) {
          await writeOutbox(db, 'benchmark', topic, { benchmark_id: id, document_names: ['doc1.txt'], reason: 'replayed' });
        }
        await writeOutbox(db, 'benchmark', EVENTS.ReportCompleted.name, { benchmark_id: id }, seen.event_id);
        await waitFor(
          'the replayed events handled',
          async () => {
            for (const t of Object.values(EVENTS).map((t) => t.name)) if ((await handled(app, t)) !== before[t] + 1) return false;
            return true;
          },
          10_000,
        );
        await waitFor('the outbox drained', async () => (await db.selectFrom('outbox').select('id').execute()).length === 0);
        await new Promise((r) => setTimeout(r, 300));

        assert.equal(smtp.mails.length, 1, 'one email');
        assert.deepEqual(await db.selectFrom('reports').selectAll().where('benchmark_id', '=', id).execute(), [report], 'the report is unchanged');
        const after = await db.selectFrom('benchmarks').select(['status', 'project_id', 'error']).where('id', '=', id).executeTakeFirstOrThrow();
        assert.deepEqual(after, { status: 'completed', project_id: row.project_id, error: null });
        assert.deepEqual(await app.kernel.bus()!.deadLetters(), []);
      } finally {
        await app.close();
        await smtp.close();
      }
    });

    it('a callback matching two running benchmarks goes to the newest', async () => {
      const app = await start({ BENCHMARK_TARGET_FAULT_SILENT: '1' });
      const db = app.kernel.databases.get('benchmark')!.db;
      try {
        const ids: string[] = [];
        for (const name of ['older', 'newer']) {
          ids.push((await app.api('POST', '/api/v1/benchmarks/start', startBody(`${app.url}/target`, { name }))).body.benchmark_id);
          await new Promise((r) => setTimeout(r, 5));
        }
        await waitFor(
          'both projects',
          async () => (await db.selectFrom('benchmarks').select('project_id').where('project_id', 'is not', null).execute()).length === 2,
        );
        // The same project id on the same host for both: what the original's random 1–100 ids made likely.
        await db.updateTable('benchmarks').set({ project_id: '42' }).execute();
        const host = new URL(app.url).host;
        const res = await app.api('POST', '/api/v1/benchmarks/documents/', {
          document_name: 'doc1.txt',
          eigen_document_id: '1',
          eigen_project_id: 42,
          benchmark_host_name: host,
          start_time: 5,
        });
        assert.deepEqual(res.body, { status: 'applied' });
        const [older, newer] = await Promise.all(ids.map(async (id) => (await app.api('GET', `/api/v1/benchmarks/${id}`)).body.documents[0].started_at));
        assert.equal(older, null);
        assert.equal(newer, new Date(5000).toISOString());
      } finally {
        await app.close();
      }
    });
  });
}
