// `npm run smoke -- benchmark [base-url]`: one benchmark against the built-in target at <base>/target, to its CSV report.
import { check, fetchAnswer } from '../../kernel/smoke.ts';

const call = fetchAnswer;
const expect = (ok: boolean, what: string, got: unknown) => check('benchmark', ok, what, got);

export async function benchmarkSmoke(baseUrl: string, print: (line: string) => void): Promise<void> {
  const health = await call(`${baseUrl}/api/v1/health`);
  expect(health.status === 200 && health.body?.status === 'ok', 'GET /api/v1/health should answer {"status":"ok"}', health.body);
  print('GET /api/v1/health → ok');

  const started = await call(`${baseUrl}/api/v1/benchmarks/start`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `smoke ${new Date().toISOString()}`,
      benchmark_type: 'latency',
      target_infra: 'built-in',
      target_url: `${baseUrl}/target`,
      target_eigen_platform_version: 'smoke',
      username: 'smoke',
      password: 'smoke-password',
    }),
  });
  expect(
    started.status === 202 && typeof started.body?.benchmark_id === 'string',
    'POST /api/v1/benchmarks/start should answer 202 with a benchmark_id',
    started.body,
  );
  const id = started.body.benchmark_id as string;
  print(`POST /api/v1/benchmarks/start → 202 benchmark_id=${id}`);

  // The built-in target takes 1–5 s per document by default.
  const deadline = Date.now() + 60_000;
  let status = 'running';
  while (status === 'running') {
    if (Date.now() > deadline) throw new Error(`smoke benchmark: ${id} still running after 60 s`);
    await new Promise((r) => setTimeout(r, 500));
    const got = await call(`${baseUrl}/api/v1/benchmarks/${id}`);
    expect(got.status === 200, `GET /api/v1/benchmarks/${id} should answer 200`, got.body);
    status = got.body.status;
  }
  expect(status === 'completed', 'the benchmark should complete', status);
  print(`GET /api/v1/benchmarks/${id} → completed`);

  const csv = await call(`${baseUrl}/api/v1/benchmarks/${id}/report.csv`);
  expect(
    csv.status === 200 && csv.text.startsWith('Benchmark Name,Benchmark Type,Infra,Eigen Version,Doc Name,Upload Time (seconds)'),
    'report.csv should have the original columns',
    csv.text.slice(0, 200),
  );
  print(`GET /api/v1/benchmarks/${id}/report.csv → ${csv.text.trim().split('\n').length - 1} documents`);
}
