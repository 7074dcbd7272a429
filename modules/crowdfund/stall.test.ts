// A stalled threads process (SIGSTOP) under load of GET /projects/:id over gRPC with mutual TLS: threads: null within the deadline, no 5xx, back at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deleteRedisKeys, freePort, gate, REDIS_URL, spawnApp, tempDir, uniqueName, type SpawnedApp } from '../../kernel/testing/index.ts';
import { api, clientTls, proposeAndWait, serverTls } from './testing/index.ts';

const RPC_TIMEOUT_MS = 1000;
const CONNECTIONS = 30;
const STALL_MS = 3000;

interface Sample {
  started: number;
  ended: number;
  status: number;
  threads: number | null;
  error?: string;
}

describe('crowdfund.projects while crowdfund.threads is stopped (SIGSTOP)', await gate('redis'), () => {
  it('answers 200 with threads: null within RPC_TIMEOUT_MS + 100 ms during the stall, never a 5xx, and full service within 1 s of SIGCONT', async () => {
    const prefix = uniqueName('cantons-test-crowdfund-stall');
    const grpcPort = await freePort();
    const shared = { DATA_DIR: tempDir(), EVENT_BUS_URL: REDIS_URL, BUS_STREAM_PREFIX: prefix, BUS_POLL_MS: '50' };
    const running: SpawnedApp[] = [];
    try {
      const threads = await spawnApp({ ...shared, ...serverTls(), MODULES: 'crowdfund.threads', GRPC_PORT: String(grpcPort) });
      running.push(threads);
      const projects = await spawnApp({
        ...shared,
        ...clientTls(),
        MODULES: 'crowdfund.projects',
        CROWDFUND_THREADS_URL: `grpcs://localhost:${grpcPort}`,
        RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS),
        RPC_RETRIES: '2',
      });
      running.push(projects);
      const call = api(projects.url);
      const { id, threads: all } = await proposeAndWait(call, 'Stalled');

      const samples: Sample[] = [];
      let stop = false;
      let inFlight = 0;
      let mostInFlight = 0;
      const worker = async () => {
        while (!stop) {
          const started = performance.now();
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          const r = await call('GET', `/projects/${id}`);
          inFlight--;
          samples.push({ started, ended: performance.now(), status: r.status, threads: r.body?.threads?.length ?? null, error: r.body?.error });
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const workers = Array.from({ length: CONNECTIONS }, worker);
      await pause(500);
      const stoppedAt = performance.now();
      process.kill(threads.proc.pid!, 'SIGSTOP');
      let resumedAt = 0;
      try {
        await pause(STALL_MS);
      } finally {
        process.kill(threads.proc.pid!, 'SIGCONT');
        resumedAt = performance.now();
      }
      await pause(2000);
      stop = true;
      await Promise.all(workers);

      // The premise: the stall held calls until their deadline, with every connection waiting at once, and was seen.
      const held = samples.filter((s) => s.ended > stoppedAt && s.ended - s.started >= RPC_TIMEOUT_MS - 50);
      assert.ok(held.length > 0, 'calls waited out their deadline');
      assert.ok(mostInFlight >= CONNECTIONS - 1, `${mostInFlight} requests in flight at most`);
      const during = samples.filter((s) => s.started >= stoppedAt && s.ended <= resumedAt);
      assert.ok(during.length > 100, `${during.length} answers during the stall`);

      assert.deepEqual(
        samples.filter((s) => s.status >= 500),
        [],
        'no 5xx at all',
      );
      assert.deepEqual(
        during.filter((s) => s.status !== 200 || s.threads !== null),
        [],
        'every answer during the stall: 200, threads null',
      );
      const slow = samples.filter((s) => s.ended - s.started > RPC_TIMEOUT_MS + 100).map((s) => Math.round(s.ended - s.started));
      assert.deepEqual(slow, [], `every answer within ${RPC_TIMEOUT_MS + 100} ms`);
      const afterwards = samples.filter((s) => s.started >= resumedAt + 1000);
      assert.ok(afterwards.length > 50, `${afterwards.length} answers from 1 s after SIGCONT`);
      assert.deepEqual(
        afterwards.filter((s) => s.status !== 200 || s.threads !== all.length),
        [],
        'full service within 1 s of SIGCONT',
      );
    } finally {
      for (const app of running.reverse()) await app.stop();
      await deleteRedisKeys(prefix);
    }
  });
});
