// One load-generator run in its own process, for comparing generators: `node --import tsx bench/loadgen/driver.ts '<json>'`.
// Prints one JSON line: requests, ok, wall time and this process's CPU (process.cpuUsage) over the measured run.
import autocannon from 'autocannon';
import { ingestRequest } from '../ingest.ts';
import { runLoad } from '../load.ts';
import { createRandom, type Random } from '../random.ts';
import { runRequests, type OneRequest } from './request-load.ts';

/** ours: runLoad; autocannon: the library bare; request-load: autocannon with our checks and histograms (bench/request-load.ts). */
export type Tool = 'ours' | 'autocannon' | 'request-load';
/** static: the same POST every time (autocannon's best case: it pre-renders the bytes); ingest: the events scenario's random POSTs. */
export type RequestKind = 'static' | 'ingest';

export interface DriverInput {
  tool: Tool;
  request: RequestKind;
  url: string;
  connections: number;
  durationSec: number;
  warmupSec: number;
}

export interface DriverOutput {
  requests: number;
  ok: number;
  elapsedMs: number;
  /** User + system CPU of this process over the measured run, µs. */
  cpuUs: number;
  /** The same over the whole process (start-up and warm-up too), µs. */
  totalCpuUs: number;
  p50: number;
  p99: number;
}

const STATIC = {
  path: '/events/snow-reports',
  traceId: '9b2f4c1e-0000-4000-8000-000000000001',
  body: { device_id: 'device-0001', resort_id: 'resort-01', depth: 120, timestamp: '2026-11-30T08:00:00.000Z' },
};

type Counts = Omit<DriverOutput, 'cpuUs' | 'totalCpuUs' | 'elapsedMs'>;

async function ours(input: DriverInput, durationSec: number): Promise<Counts> {
  const r = await runLoad({
    url: input.url,
    connections: input.connections,
    durationMs: durationSec * 1000,
    progress: false,
    step:
      input.request === 'static'
        ? async (vu) => {
            await vu.client.post(STATIC.path, STATIC.body, { step: 'post', headers: { 'x-trace-id': STATIC.traceId }, expect: 201 });
          }
        : async (vu) => {
            const q = ingestRequest(vu.random);
            await vu.client.post(q.path, q.body, { step: q.step, headers: { 'x-trace-id': q.traceId }, expect: 201 });
          },
  });
  return { requests: r.requests, ok: r.ok, p50: r.latency.p50, p99: r.latency.p99 };
}

async function cannon(input: DriverInput, durationSec: number): Promise<Counts> {
  const random = createRandom();
  const headers = { accept: 'application/json', 'content-type': 'application/json' };
  const result = await autocannon({
    url: input.url,
    connections: input.connections,
    duration: durationSec,
    method: 'POST',
    ...(input.request === 'static'
      ? { path: STATIC.path, headers: { ...headers, 'x-trace-id': STATIC.traceId }, body: JSON.stringify(STATIC.body) }
      : {
          requests: [
            {
              method: 'POST',
              setupRequest: (req) => {
                const q = ingestRequest(random);
                return { ...req, path: q.path, headers: { ...headers, 'x-trace-id': q.traceId }, body: JSON.stringify(q.body) };
              },
            },
          ],
        }),
  });
  return { requests: result.requests.total, ok: result.statusCodeStats['201']?.count ?? 0, p50: result.latency.p50, p99: result.latency.p99 };
}

async function requestLoad(input: DriverInput, durationSec: number): Promise<Counts> {
  const next =
    input.request === 'static'
      ? (): OneRequest => ({ step: 'post', method: 'POST', path: STATIC.path, headers: { 'x-trace-id': STATIC.traceId }, body: STATIC.body, expect: 201 })
      : (random: Random): OneRequest => {
          const q = ingestRequest(random);
          return { step: q.step, method: 'POST', path: q.path, headers: { 'x-trace-id': q.traceId }, body: q.body, expect: 201 };
        };
  const r = await runRequests({ url: input.url, connections: input.connections, durationMs: durationSec * 1000, next });
  return { requests: r.requests, ok: r.ok, p50: r.latency.p50, p99: r.latency.p99 };
}

async function main(input: DriverInput): Promise<DriverOutput> {
  const run = { ours, autocannon: cannon, 'request-load': requestLoad }[input.tool];
  if (input.warmupSec > 0) await run(input, input.warmupSec);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await run(input, input.durationSec);
  const cpu = process.cpuUsage(cpu0);
  const total = process.cpuUsage();
  return { ...r, elapsedMs: Math.round(performance.now() - t0), cpuUs: cpu.user + cpu.system, totalCpuUs: total.user + total.system };
}

main(JSON.parse(process.argv[2]) as DriverInput).then(
  (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
