// One contract, three transports: projects answers the same bodies and the same error codes whether threads is in-process, over HTTP or gRPC.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteRedisKeys, freePort, gate, REDIS_URL, startTestApp, tempDir, uniqueName, waitFor, type TestApp } from '../../kernel/testing/index.ts';
import { api, clientTls, proposal, serverTls, type Api } from './testing/index.ts';

describe('crowdfund.threads in-process, over HTTP, over gRPC and gRPC+TLS', await gate('redis'), () => {
  const prefix = uniqueName('cantons-test-crowdfund-transports');
  const shared = { DATA_DIR: tempDir(), EVENT_BUS_URL: REDIS_URL, BUS_STREAM_PREFIX: prefix, BUS_POLL_MS: '50' };
  const apps: TestApp[] = [];
  const callers: Record<string, Api> = {};
  let id: number;

  before(async () => {
    const plainPort = await freePort();
    const tlsPort = await freePort();
    // Two threads processes on one database and bus: one plaintext on loopback, one with mutual TLS.
    const plain = await startTestApp({ env: { ...shared, MODULES: 'crowdfund.threads', GRPC_PORT: String(plainPort) } });
    const tls = await startTestApp({ env: { ...shared, ...serverTls(), MODULES: 'crowdfund.threads', GRPC_PORT: String(tlsPort) } });
    apps.push(plain, tls);
    const projects = async (url: string, env = {}) => {
      const app = await startTestApp({ env: { ...shared, ...env, MODULES: 'crowdfund.projects', CROWDFUND_THREADS_URL: url } });
      apps.push(app);
      return api(app.url);
    };
    callers.http = await projects(plain.url);
    callers.grpc = await projects(`grpc://127.0.0.1:${plainPort}`);
    callers.grpcs = await projects(`grpcs://127.0.0.1:${tlsPort}`, clientTls());
    const local = await startTestApp({ env: { ...shared, MODULES: 'crowdfund', GRPC_PORT: String(await freePort()) } });
    apps.push(local);
    callers['in-process'] = api(local.url);

    id = (await callers.http('POST', '/projects/propose', proposal('Transports'))).body.project_id;
    await waitFor('threads', async () => ((await callers.http('GET', `/projects/${id}`)).body.threads?.length === 3 ? true : undefined), 10_000);
  });
  after(async () => {
    for (const app of apps.reverse()) await app.close();
    await deleteRedisKeys(prefix);
  });

  it('the same answers and the same error codes whichever transport carries the calls', async () => {
    const answers: Record<string, unknown[]> = {};
    for (const [name, call] of Object.entries(callers)) {
      answers[name] = [
        await call('GET', `/projects/${id}`),
        await call('GET', `/projects/${id}/threads?type=problem`),
        await call('GET', '/projects/999999/threads'),
        await call('POST', `/projects/${id}/threads`, { thread_type: 'comment', message: 'x', parent_thread_id: 999_999 }),
        await call('GET', '/threads/999999/replies'),
        await call('GET', `/projects/${id}/threads?cursor=bm9wZQ`),
      ];
    }
    const [first, ...rest] = Object.entries(answers);
    for (const [name, got] of rest) assert.deepEqual(got, first[1], `${name} answers as ${first[0]} does`);
    assert.deepEqual((first[1][2] as any).body.error, 'PROJECT_NOT_FOUND');
    assert.deepEqual((first[1][3] as any).body.error, 'THREAD_NOT_FOUND');
    assert.deepEqual((first[1][5] as any).body.error, 'VALIDATION_ERROR');
  });
});
