// A closed loop of unary gRPC calls over TLS (crowdfund's threads service), recorded as a RunRecord like an HTTP run.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Histogram } from './histogram.ts';
import type { RunRecord } from './scenario.ts';
import { ROOT, type ServerProcess } from './servers.ts';

const PROTO = join(ROOT, 'modules/crowdfund/threads.proto');

export function threadsClient(port: number, ca: string): any {
  const Ctor = (loadPackageDefinition(loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true })) as any).ThreadsService;
  return new Ctor(`127.0.0.1:${port}`, credentials.createSsl(readFileSync(ca)));
}

export const unary = (client: any, rpc: string, req: unknown) =>
  new Promise<any>((resolve, reject) =>
    client[rpc](req, new Metadata(), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, v: any) => (err ? reject(err) : resolve(v))),
  );

/**
 * `connections` calls in flight on the client's one channel for `ms`, after `warmupMs` of the same thrown away; the
 * servers' CPU (summed) per OK call. The crowdfund, writes and scale scenarios' one gRPC load.
 */
export async function grpcLoad(
  label: string,
  servers: ServerProcess[],
  call: () => Promise<unknown>,
  connections: number,
  ms: number,
  warmupMs = 0,
): Promise<RunRecord> {
  const loop = async (until: number, each: (started: number, err?: Error) => void) => {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          try {
            await call();
            each(started);
          } catch (err) {
            each(started, err as Error);
          }
        }
      }),
    );
  };
  const warm = { requests: 0, ok: 0, errors: 0 };
  await loop(performance.now() + warmupMs, (_, err) => {
    warm.requests++;
    if (err) warm.errors++;
    else warm.ok++;
  });
  const histogram = new Histogram();
  let ok = 0;
  let errors = 0;
  const samples: Record<string, number> = {};
  const cpuNow = () => servers.reduce<number | null>((sum, s) => (sum === null || s.cpuMs() === null ? null : sum + s.cpuMs()!), 0);
  const cpu0 = cpuNow();
  const client0 = process.cpuUsage();
  const loadAverage = Math.round(os.loadavg()[0] * 100) / 100;
  const t0 = performance.now();
  await loop(t0 + ms, (started, err) => {
    if (!err) {
      ok++;
      histogram.record(performance.now() - started);
      return;
    }
    errors++;
    const m = err.message.slice(0, 120);
    samples[m] = (samples[m] ?? 0) + 1;
  });
  const elapsedMs = performance.now() - t0;
  const cpu1 = cpuNow();
  const used = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  const client = process.cpuUsage(client0);
  const requests = ok + errors;
  return {
    label,
    name: label,
    url: servers[0].url,
    connections,
    elapsedMs: Math.round(elapsedMs),
    iterations: requests,
    requests,
    ok,
    rps: Math.round((requests * 1000) / elapsedMs),
    okRps: Math.round((ok * 1000) / elapsedMs),
    statuses: { OK: ok, ...(errors ? { error: errors } : {}) },
    errors: { total: errors, status: errors, status5xx: 0, network: 0, assertion: 0, samples },
    latency: histogram.summary(),
    steps: {},
    timeline: [],
    loadgenCpuPercent: Math.round(((client.user + client.system) / 1000 / elapsedMs) * 100),
    loadgenCpuUsPerRequest: requests ? Math.round((client.user + client.system) / requests) : null,
    cutOff: false,
    servers: servers.map((s) => s.name),
    serverCpuPercent: used === null ? null : Math.round((used / elapsedMs) * 100),
    serverCpuUsPerOk: used === null || !ok ? null : Math.round((used * 10_000) / ok) / 10,
    loadAverage,
    otherCpuPercent: null,
    warmup: warm,
  };
}
