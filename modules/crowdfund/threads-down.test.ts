// Projects without threads: a proposal made while threads is down loses nothing and duplicates nothing; reads degrade to threads: null.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { pino } from 'pino';
import { bootstrap } from '../../kernel/bootstrap.ts';
import { HEALTH_PROTO } from '../../kernel/transport/grpc-health.ts';
import { deleteRedisKeys, freePort, gate, REDIS_URL, startTestApp, tempDir, uniqueName, waitFor, type TestApp } from '../../kernel/testing/index.ts';
import { api, clientTls, proposal, serverTls, unary } from './testing/index.ts';

describe('crowdfund.projects while crowdfund.threads is down', await gate('redis'), () => {
  it('proposes, serves threads: null with the reason, then the threads appear once when threads comes up', async () => {
    const prefix = uniqueName('cantons-test-crowdfund');
    const grpcPort = await freePort();
    const shared = { DATA_DIR: tempDir(), EVENT_BUS_URL: REDIS_URL, BUS_STREAM_PREFIX: prefix, BUS_POLL_MS: '50' };
    const started: TestApp[] = [];
    try {
      const projects = await startTestApp({
        env: {
          ...shared,
          ...clientTls(),
          MODULES: 'crowdfund.projects',
          CROWDFUND_THREADS_URL: `grpcs://127.0.0.1:${grpcPort}`,
          RPC_TIMEOUT_MS: '500',
          RPC_RETRIES: '1',
        },
      });
      started.push(projects);
      const call = api(projects.url);

      const proposed = await call('POST', '/projects/propose', proposal('While down'));
      assert.equal(proposed.status, 200, JSON.stringify(proposed.body));
      const id = proposed.body.project_id;

      const detail = await call('GET', `/projects/${id}`);
      assert.equal(detail.status, 200);
      assert.equal(detail.body.project_name, 'While down');
      assert.equal(detail.body.threads, null);
      assert.equal(detail.body.threads_unavailable.error, 'ROLE_UNAVAILABLE');
      assert.match(detail.body.threads_unavailable.message, /crowdfund\.threads/);
      assert.doesNotMatch(JSON.stringify(detail.body), new RegExp(String(grpcPort)), 'the internal address stays out of the response');
      const list = await call('GET', '/projects');
      assert.equal(list.body.items[0].thread_counts, null);
      assert.equal(list.body.threads_unavailable.error, 'ROLE_UNAVAILABLE');
      const vote = await call('POST', '/threads/1/votes', { direction: 'up' });
      assert.deepEqual([vote.status, vote.body.error], [503, 'ROLE_UNAVAILABLE']);

      // Threads comes up on the same database and bus: the event waiting in Redis makes the threads, once.
      const threads = await startTestApp({ env: { ...shared, ...serverTls(), MODULES: 'crowdfund.threads', GRPC_PORT: String(grpcPort) } });
      started.push(threads);
      const seen = await waitFor(
        "the proposal's threads through gRPC",
        async () => {
          const d = await call('GET', `/projects/${id}`);
          return d.body.threads?.length ? d.body.threads : undefined;
        },
        10_000,
      );
      assert.deepEqual(
        seen.map((t: any) => t.message),
        ['too many cars', 'more bikes', 'more trams'],
      );

      // A restart of threads redelivers nothing twice.
      await threads.close();
      started.pop();
      const second = await call('POST', '/projects/propose', proposal('Also while down', { problems: ['p'], solutions: ['s'] }));
      assert.equal(second.status, 200);
      started.push(await startTestApp({ env: { ...shared, ...serverTls(), MODULES: 'crowdfund.threads', GRPC_PORT: String(grpcPort) } }));
      await waitFor(
        "the second proposal's threads",
        async () => ((await call('GET', `/projects/${second.body.project_id}`)).body.threads?.length === 2 ? true : undefined),
        10_000,
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await call('GET', `/projects/${id}`)).body.threads.length, 3);
      assert.deepEqual(
        (await call('GET', '/projects')).body.items.map((p: any) => p.thread_counts),
        [
          { problem: 1, solution: 1, comment: 0 },
          { problem: 1, solution: 2, comment: 0 },
        ],
      );
    } finally {
      for (const app of started.reverse()) await app.close();
      await deleteRedisKeys(prefix);
    }
  });
});

describe('gRPC health of crowdfund.threads', () => {
  it('answers NOT_SERVING while the database connects, SERVING once the role runs', async () => {
    const deadPg = await freePort();
    const grpcPort = await freePort();
    const kernel = bootstrap({
      log: pino({ level: 'silent' }),
      env: {
        MODULES: 'crowdfund.threads',
        DATABASE_URL: `postgres://postgres@127.0.0.1:${deadPg}/x`,
        DB_CONNECT_ATTEMPTS: '3',
        DB_CONNECT_BASE_MS: '300',
        GRPC_PORT: String(grpcPort),
      },
    });
    // Its rejection is expected once the attempts run out: handled from the start, however long the health answer takes.
    const startFails = assert.rejects(kernel.start(), /after 3 attempts/);
    const Health = (loadPackageDefinition(loadSync(HEALTH_PROTO, { enums: String })) as any).grpc.health.v1.Health;
    const health = new Health(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    try {
      const answer = await waitFor(
        'a health answer',
        async () => {
          const r = await unary(health, 'Check', { service: 'ThreadsService' });
          return r.err ? undefined : r.value.status;
        },
        5000,
      );
      assert.equal(answer, 'NOT_SERVING');
      assert.equal((await unary(health, 'Check', { service: '' })).value.status, 'NOT_SERVING');
      await startFails;
    } finally {
      health.close();
      await kernel.close();
    }

    const app = await startTestApp({ env: { MODULES: 'crowdfund.threads', GRPC_PORT: String(grpcPort) } });
    const again = new Health(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    try {
      assert.equal((await unary(again, 'Check', { service: 'ThreadsService' })).value.status, 'SERVING');
    } finally {
      again.close();
      await app.close();
    }
  });
});
