// The whole flow end to end on every database and bus: start → project → upload → callbacks → report → one email.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gate, waitFor } from '../../kernel/testing/index.ts';
import { startSmtp } from './testing/smtp.ts';
import { SETUPS, startBenchmarkApp, startBody, waitForEnd } from './testing/support.ts';

const COLUMNS = 'Benchmark Name,Benchmark Type,Infra,Eigen Version,Doc Name,Upload Time (seconds)';

for (const setup of SETUPS) {
  describe(`benchmark flow (${setup.name})`, await gate(...setup.needs), () => {
    it('runs a benchmark against the built-in target to a report and exactly one email', async () => {
      const prepared = await setup.prepare();
      const smtp = await startSmtp();
      const app = await startBenchmarkApp({ ...prepared.env, SMTP_URL: smtp.url, BENCHMARK_NOTIFY_TO: 'team@example.com' });
      try {
        const { api } = app;
        assert.deepEqual((await api('GET', '/api/v1/health')).body, { status: 'ok' });
        const channels = (await api('GET', '/api/v1/benchmarks/channels')).body;
        assert.ok(channels.channels.includes('create_benchmark') && channels.channels.includes('all_documents_uploaded'));

        const started = await api(
          'POST',
          '/api/v1/benchmarks/start',
          startBody(`${app.url}/target`, { documents: { count: 5, size_bytes: 2048 }, notify: ['qa@example.com'] }),
        );
        assert.equal(started.status, 202, started.text);
        const id = started.body.benchmark_id;
        assert.equal(started.body.status_url, `/api/v1/benchmarks/${id}`);

        const view = await waitForEnd(api, id);
        assert.equal(view.status, 'completed', JSON.stringify(view));
        assert.deepEqual(view.progress, { done: 5, total: 5 });
        assert.equal(view.documents.length, 5);
        for (const d of view.documents) {
          assert.match(d.started_at, /Z$/);
          assert.ok(d.upload_seconds >= 0 && d.upload_seconds < 5, `${d.name}: ${d.upload_seconds}`);
        }
        assert.equal(view.summary.count, 5);
        assert.equal(view.summary.failed, 0);
        assert.equal(view.thresholds, 'passed');

        const csv = await api('GET', `/api/v1/benchmarks/${id}/report.csv`);
        assert.equal(csv.status, 200);
        assert.match(csv.headers.get('content-type')!, /^text\/csv/);
        const lines = csv.text.trimEnd().split('\r\n');
        assert.equal(lines[0], COLUMNS);
        assert.equal(lines.length, 6);
        assert.match(lines[1], /^Benchmark Latency for release 5\.11\.0-rc1,latency,docker__local,5\.11\.0-rc1,doc1\.txt,\d+(\.\d+)?$/);

        const json = await api('GET', `/api/v1/benchmarks/${id}/report.json`);
        assert.equal(json.body.summary.count, 5);
        for (const k of ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'max', 'throughput_per_second', 'wall_seconds'])
          assert.equal(typeof json.body.summary[k], 'number', k);
        assert.equal(json.body.documents.length, 5);

        const html = await api('GET', `/api/v1/benchmarks/${id}/report.html`);
        assert.match(html.text, /<svg/);
        assert.doesNotMatch(html.text, /<(script|link|img)\b|src=|@import/i, 'nothing loaded from the network');

        for (const ext of ['csv', 'json', 'html']) assert.ok(existsSync(join(app.dataDir, 'reports', `benchmark-${id}.${ext}`)), ext);
        assert.equal(readFileSync(join(app.dataDir, 'reports', `benchmark-${id}.csv`), 'utf8'), csv.text);

        await waitFor('the report email', () => smtp.mails.length === 1, 10_000);
        const mail = smtp.mails[0];
        assert.deepEqual(mail.to, ['qa@example.com']);
        assert.match(mail.raw, /Subject: Benchmark Report: Benchmark Latency for release 5\.11\.0-rc1/);
        assert.match(mail.raw, new RegExp(`Message-ID: <benchmark-${id}@cantons>`, 'i'));
        assert.match(mail.raw, /filename=.?benchmark-[0-9a-f-]+\.csv/);
        assert.match(mail.raw, /Thresholds: passed/);

        // A callback naming no project of a benchmark changes nothing; like the original, it is accepted (202) as unmatched.
        const doc = view.documents[0];
        const replay = await api('POST', '/api/v1/benchmarks/documents/', {
          document_name: doc.name,
          eigen_document_id: 'x',
          eigen_project_id: 'unknown',
          benchmark_host_name: new URL(app.url).host,
          start_time: 1,
          end_time: 2,
        });
        assert.equal(replay.status, 202);
        assert.deepEqual(replay.body, { status: 'unmatched' });
        // Nothing more is sent later.
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(smtp.mails.length, 1);
        const list = await api('GET', '/api/v1/benchmarks?status=completed');
        assert.deepEqual(
          list.body.items.map((b: any) => b.benchmark_id),
          [id],
        );

        // A second run against the first as baseline, with a threshold it cannot meet.
        const second = await api('POST', '/api/v1/benchmarks/start', startBody(`${app.url}/target`, { baseline_id: id, thresholds: { p95_seconds: 0 } }));
        const secondView = await waitForEnd(api, second.body.benchmark_id);
        assert.equal(secondView.status, 'completed');
        assert.equal(secondView.thresholds, 'failed');
        const secondHtml = (await api('GET', `/api/v1/benchmarks/${second.body.benchmark_id}/report.html`)).text;
        assert.equal((secondHtml.match(/<svg /g) ?? []).length, 3, 'per document, distribution, against the baseline');
        await waitFor('the second email', () => smtp.mails.length === 2, 10_000);
        assert.deepEqual(smtp.mails[1].to, ['team@example.com'], 'BENCHMARK_NOTIFY_TO without a notify list');
        assert.match(smtp.mails[1].raw, /Thresholds: failed/);
        const page1 = await api('GET', '/api/v1/benchmarks?limit=1');
        assert.equal(page1.body.items[0].benchmark_id, second.body.benchmark_id, 'newest first');
        const page2 = await api('GET', `/api/v1/benchmarks?limit=1&cursor=${page1.body.next_cursor}`);
        assert.deepEqual([page2.body.items[0].benchmark_id, page2.body.next_cursor], [id, null]);
      } finally {
        await app.close();
        await smtp.close();
        await prepared.cleanup();
      }
    });
  });
}
