// The benchmark module's promise through its public API: a whole run on the built-in target (reached through the
// gateway at /target, as in the smoke test) ends completed, with its three reports and exactly one email.
import { type Answer, call, eventually, expect, sleep, unique } from './http.ts';
import type { Deployment, ModuleSuite } from './types.ts';

/** Starts a benchmark of `documents` documents on the built-in target, mailed to `notify`; resolves its id. */
async function start(d: Deployment, name: string, documents: number, notify: string): Promise<string> {
  const started = await call(d.gateway, 'POST', '/api/v1/benchmarks/start', {
    name,
    benchmark_type: 'latency',
    target_infra: 'built-in',
    target_url: `${d.gateway}/target`,
    target_eigen_platform_version: 'conformance',
    username: 'conformance',
    password: 'conformance-password',
    documents: { count: documents },
    notify: [notify],
    timeout_seconds: 120,
  });
  expect(started.status === 202 && typeof started.body?.benchmark_id === 'string', 'POST /api/v1/benchmarks/start → 202 {benchmark_id}', started);
  return started.body.benchmark_id;
}

/** Waits for the benchmark to leave `running` (the built-in target takes 1–5 s a document by default). */
function ended(d: Deployment, id: string): Promise<Answer> {
  return eventually(
    `benchmark ${id} to end`,
    () => call(d.gateway, 'GET', `/api/v1/benchmarks/${id}`),
    (a) => a.status !== 200 || a.body?.status !== 'running',
    90_000,
    250,
  );
}

/** What a failure message needs of an ended benchmark: its status and error, not the whole view. */
const outcome = (view: Answer) => (view.status === 200 ? `${view.body.status}${view.body.error ? ` (${view.body.error})` : ''}` : view);

const CSV_HEADER = 'Benchmark Name,Benchmark Type,Infra,Eigen Version,Doc Name,Upload Time (seconds)';

export const benchmark: ModuleSuite = {
  module: 'benchmark',
  checks: [
    {
      name: 'a whole run on the built-in target: completed, CSV/JSON/HTML reports, exactly one email',
      async run(d) {
        const name = unique('conformance');
        const to = `${name}@example.com`;
        const id = await start(d, name, 3, to);
        const view = await ended(d, id);
        expect(view.status === 200 && view.body.status === 'completed', `benchmark ${id} → completed`, outcome(view));
        expect(view.body.progress?.done === 3 && view.body.progress?.total === 3, 'progress 3 of 3', view.body.progress);
        const untimed = view.body.documents?.find((doc: any) => typeof doc.upload_seconds !== 'number');
        expect(view.body.documents?.length === 3 && untimed === undefined, '3 documents, each with its upload time', view.body.documents);

        const csv = await call(d.gateway, 'GET', `/api/v1/benchmarks/${id}/report.csv`);
        const rows = csv.text.trim().split(/\r?\n/);
        expect(csv.status === 200 && rows[0] === CSV_HEADER && rows.length === 4, 'report.csv → 200, the original header and 3 rows', csv);
        const json = await call(d.gateway, 'GET', `/api/v1/benchmarks/${id}/report.json`);
        expect(
          json.status === 200 && json.body?.benchmark_id === id && json.body?.summary?.count === 3,
          'report.json → 200 with the id and a summary of 3',
          json,
        );
        const html = await call(d.gateway, 'GET', `/api/v1/benchmarks/${id}/report.html`);
        expect(html.status === 200 && /<html/i.test(html.text) && html.text.includes(name), 'report.html → 200, a page naming the benchmark', html);

        // The notifier sends after the report's commit, so the email may come a moment later; then no second one.
        const mailsOf = () => d.mails.filter((m) => m.to.includes(to));
        await eventually(
          `an email to ${to}`,
          async () => mailsOf().length,
          (n) => n >= 1,
          30_000,
          100,
        );
        await sleep(3000);
        const mails = mailsOf();
        expect(mails.length === 1, `exactly one email to ${to}`, `${mails.length} emails`);
        expect(new RegExp(`Message-ID: <benchmark-${id}@cantons>`, 'i').test(mails[0].raw), `the email's Message-ID <benchmark-${id}@cantons>`, mails[0].raw);
      },
    },
  ],
  async load(d) {
    const name = unique('conformance-load');
    const id = await start(d, name, 1, `${name}@example.com`);
    // Ended before the load, so the load reads a settled benchmark and no step of it runs meanwhile.
    const view = await ended(d, id);
    expect(view.status === 200 && view.body.status === 'completed', `the load's benchmark ${id} → completed`, outcome(view));
    return () => ({ method: 'GET', path: `/api/v1/benchmarks/${id}` });
  },
};
