// Scale, benchmark: one benchmark of N documents on the built-in target with zero delay, to its report: the time from the
// last callback to the report, the report files' sizes and the server's memory, at each N.
import type { BenchIO, CheckResult, RunRecord } from '../scenario.ts';
import { check } from '../scenario.ts';
import { spawnCantons, stopServers } from '../servers.ts';
import { count, memoryOf } from './seed.ts';
import type { ScaleSeries } from './series.ts';

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ text: string; json: () => any }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return { text, json: () => JSON.parse(text) };
}

export async function scaleBenchmark(
  sizes: number[],
  series: ScaleSeries,
  io: BenchIO,
): Promise<{ runs: RunRecord[]; checks: CheckResult[]; notes: string[] }> {
  const checks: CheckResult[] = [];
  const notes: string[] = [];
  const base = { module: 'benchmark', sizeUnit: 'documents' } as const;
  for (const size of sizes) {
    const server = await spawnCantons(
      // 1,000 documents is the default limit; the scale part measures past it (up to MAX_DOCUMENTS, 10,000).
      { MODULES: 'benchmark', BENCHMARK_TARGET_DELAY_MS: '0', BENCHMARK_TARGET_CONCURRENCY: '64', BENCHMARK_MAX_DOCUMENTS: String(Math.max(1000, ...sizes)) },
      { name: 'cantons benchmark' },
    );
    try {
      const url = server.url;
      const idle = memoryOf(server.pid);
      io.log(`benchmark, ${count(size)} documents on the built-in target, zero delay …`);
      const t0 = Date.now();
      const started = await call(url, 'POST', '/api/v1/benchmarks/start', {
        name: `scale ${size}`,
        benchmark_type: 'latency',
        target_infra: 'bench',
        target_url: `${url}/target`,
        target_eigen_platform_version: 'bench',
        username: 'bench',
        password: 'bench-password',
        documents: { count: size, size_bytes: 256 },
      });
      const id = started.json().benchmark_id as string;
      // The list's head (status, progress) is cheap to poll; the view with every document is read once, at the end.
      let last = '';
      for (let lastLog = Date.now(); ; ) {
        const head = (await call(url, 'GET', '/api/v1/benchmarks?limit=1')).json().items[0];
        if (head.status !== 'running') break;
        if (Date.now() - t0 > 600_000) throw new Error(`benchmark of ${size} documents still running after 600 s`);
        if (Date.now() - lastLog > 3000) {
          lastLog = Date.now();
          last = JSON.stringify(head.progress ?? head);
          io.log(`  running: ${last}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      const wallMs = Date.now() - t0;
      const view = (await call(url, 'GET', `/api/v1/benchmarks/${id}`)).json();
      const lastCallback = Math.max(...view.documents.map((d: any) => Date.parse(d.ended_at ?? view.finished_at)));
      const lagMs = Date.parse(view.finished_at) - lastCallback;
      const files = Object.fromEntries(
        await Promise.all(
          ['csv', 'json', 'html'].map(async (ext) => [ext, Buffer.byteLength((await call(url, 'GET', `/api/v1/benchmarks/${id}/report.${ext}`)).text)]),
        ),
      ) as Record<string, number>;
      const mem = memoryOf(server.pid);
      checks.push(
        check(`benchmark of ${count(size)} documents: completed`, view.status === 'completed', `${view.status}${view.error ? `: ${view.error}` : ''}`),
      );
      checks.push(
        check(
          `benchmark of ${count(size)} documents: every document has both times`,
          view.documents.length === size && view.documents.every((d: any) => d.started_at && d.ended_at),
          `${view.documents.length} documents`,
        ),
      );
      const rate = Math.round((size * 1000) / Math.max(1, lagMs));
      series.add({ ...base, name: 'last callback → report', unit: 'ms', kind: 'info' }, size, lagMs);
      series.add(
        { ...base, name: 'last callback → report per document', unit: 'µs', kind: 'whole-set' },
        size,
        (lagMs * 1000) / size,
        `${count(rate)} documents/s`,
      );
      series.add(
        { ...base, name: 'start → report per document (end to end)', unit: 'µs', kind: 'whole-set' },
        size,
        (wallMs * 1000) / size,
        `${count(Math.round((size * 1000) / wallMs))} documents/s`,
      );
      for (const ext of ['csv', 'json', 'html'])
        series.add({ ...base, name: `report.${ext} bytes per document`, unit: 'B', kind: 'whole-set' }, size, files[ext] / size, `${count(files[ext])} bytes`);
      if (mem && idle) {
        series.add({ ...base, name: 'server RSS after the report', unit: 'MB', kind: 'info' }, size, mem.rssMb, `idle ${idle.rssMb} MB, peak ${mem.peakMb} MB`);
        series.add(
          { ...base, name: 'server peak RSS above idle, per document', unit: 'KB', kind: 'whole-set' },
          size,
          ((mem.peakMb - idle.rssMb) * 1024) / size,
        );
      }
      notes.push(
        `benchmark of ${count(size)} documents: start → report ${wallMs} ms, last callback → report ${lagMs} ms (${count(rate)} documents/s), report csv ${count(files.csv)} B, json ${count(files.json)} B, html ${count(files.html)} B${mem ? `, RSS ${mem.rssMb} MB (peak ${mem.peakMb} MB, idle ${idle?.rssMb} MB)` : ''}`,
      );
    } finally {
      await stopServers(server);
    }
  }
  return { runs: [], checks, notes };
}
