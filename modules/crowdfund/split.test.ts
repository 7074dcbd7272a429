// crowdfund.projects and crowdfund.threads as two real processes: gRPC over mutual TLS, events over Redis Streams, Postgres.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createTestDatabase,
  deleteRedisKeys,
  freePort,
  gate,
  REDIS_URL,
  spawnApp,
  tempDir,
  uniqueName,
  waitFor,
  type SpawnedApp,
} from '../../kernel/testing/index.ts';
import { api, clientTls, grpcClient, proposal, serverTls, THREADS_PROTO, unary } from './testing/index.ts';

describe('crowdfund split across two processes', await gate('postgres', 'redis'), () => {
  it('propose in one process, threads made in the other, reads and votes over gRPC+TLS; threads down and back loses nothing', async () => {
    const prefix = uniqueName('cantons-test-crowdfund-split');
    const database = await createTestDatabase('crowdfund_split');
    const grpcPort = await freePort();
    const shared = { DATA_DIR: tempDir(), DATABASE_URL: database.url, EVENT_BUS_URL: REDIS_URL, BUS_STREAM_PREFIX: prefix, BUS_POLL_MS: '50' };
    const threadsEnv = { ...shared, ...serverTls(), MODULES: 'crowdfund.threads', GRPC_PORT: String(grpcPort) };
    const running: SpawnedApp[] = [];
    try {
      let threads = await spawnApp(threadsEnv);
      running.push(threads);
      const projects = await spawnApp({
        ...shared,
        ...clientTls(),
        MODULES: 'crowdfund.projects',
        CROWDFUND_THREADS_URL: `grpcs://localhost:${grpcPort}`,
        RPC_TIMEOUT_MS: '1000',
        RPC_RETRIES: '1',
      });
      running.push(projects);
      const call = api(projects.url);

      // Each process serves only its own role's routes.
      assert.equal((await api(threads.url)('POST', '/projects/propose', proposal('nope'))).status, 404);

      const proposed = await call('POST', '/projects/propose', proposal('Split'));
      assert.equal(proposed.status, 200, JSON.stringify(proposed.body));
      const id = proposed.body.project_id;
      const seen = await waitFor(
        'threads made by the other process',
        async () => {
          const d = await call('GET', `/projects/${id}`);
          return d.body.threads?.length === 3 ? d.body.threads : undefined;
        },
        10_000,
      );
      const target = seen[0].thread_id;
      const votes = await Promise.all(Array.from({ length: 50 }, () => call('POST', `/threads/${target}/votes`, { direction: 'up' })));
      assert.deepEqual([...new Set(votes.map((v) => v.status))], [200]);
      assert.equal((await call('GET', `/projects/${id}`)).body.threads[0].up_votes, 50);

      // Errors keep their catalogue codes across gRPC.
      assert.deepEqual(
        (await call('POST', `/projects/${id}/threads`, { thread_type: 'comment', message: 'x', parent_thread_id: 999_999 })).body.error,
        'THREAD_NOT_FOUND',
      );
      assert.equal((await call('GET', '/projects/999999/threads')).body.error, 'PROJECT_NOT_FOUND');
      // A gRPC client of our own, from our .proto, reaches the threads process directly (mTLS).
      const direct = grpcClient(THREADS_PROTO, grpcPort);
      assert.equal((await unary(direct, 'GetThread', { thread_id: target })).value.up_votes, 50);
      direct.close();

      // Threads down: projects still serves the project, and a proposal made now loses nothing.
      assert.equal(await threads.stop(), 0);
      running.shift();
      const degraded = await call('GET', `/projects/${id}`);
      assert.deepEqual([degraded.status, degraded.body.threads, degraded.body.threads_unavailable?.error], [200, null, 'ROLE_UNAVAILABLE']);
      const whileDown = await call('POST', '/projects/propose', proposal('Split while down', { problems: ['p'], solutions: ['s'] }));
      assert.equal(whileDown.status, 200);

      threads = await spawnApp({ ...threadsEnv, PORT: String(threads.port) });
      running.unshift(threads);
      await waitFor(
        'the threads of the proposal made while down',
        async () => {
          const d = await call('GET', `/projects/${whileDown.body.project_id}`);
          return d.body.threads?.length === 2 ? true : undefined;
        },
        15_000,
      );
      await new Promise((r) => setTimeout(r, 300));
      const counts = (await call('GET', '/projects')).body.items.map((p: any) => [p.project_name, p.thread_counts]);
      assert.deepEqual(counts, [
        ['Split while down', { problem: 1, solution: 1, comment: 0 }],
        ['Split', { problem: 1, solution: 2, comment: 0 }],
      ]);
    } finally {
      for (const app of running) await app.stop();
      await deleteRedisKeys(prefix);
      await database.drop();
    }
  });
});
