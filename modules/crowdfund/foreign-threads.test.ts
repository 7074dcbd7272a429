// crowdfund.projects against a threads server that is not ours (the original proto, grpc-js, mutual TLS): empty, broken and failed answers, 0 500s.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  loadPackageDefinition,
  Server,
  ServerCredentials,
  status,
  type GrpcObject,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { deleteRedisKeys, gate, REDIS_URL, startTestApp, tempDir, uniqueName, type TestApp } from '../../kernel/testing/index.ts';
import { api, certificates, clientTls, ORIGINAL_PROTO, proposal, type Api, type Reply } from './testing/index.ts';

type Answer = (request: any) => { error?: { code: status; details: string }; value?: unknown };

/** What the foreign server answers per rpc; it has only the original's two. */
const answers: Record<'GetProjectThreads' | 'UpdateThreads', Answer> = { GetProjectThreads: () => ({ value: {} }), UpdateThreads: () => ({ value: {} }) };

async function foreignServer(): Promise<{ port: number; stop(): void }> {
  const pkg = loadPackageDefinition(loadSync(ORIGINAL_PROTO, { keepCase: true, longs: Number, defaults: true })) as GrpcObject;
  const server = new Server();
  const handler = (rpc: keyof typeof answers) => (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const { error, value } = answers[rpc](call.request);
    callback(error ?? null, value);
  };
  server.addService((pkg.ThreadsService as ServiceClientConstructor).service, {
    GetProjectThreads: handler('GetProjectThreads'),
    UpdateThreads: handler('UpdateThreads'),
  });
  const c = certificates();
  const credentials = ServerCredentials.createSsl(
    readFileSync(c.ca),
    [{ cert_chain: readFileSync(c.serverCert), private_key: readFileSync(c.serverKey) }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return { port, stop: () => server.forceShutdown() };
}

describe('crowdfund.projects with a threads server that is not ours', await gate('redis'), () => {
  const prefix = uniqueName('cantons-test-crowdfund-foreign');
  let foreign: Awaited<ReturnType<typeof foreignServer>>;
  let projects: TestApp;
  let call: Api;
  let id: number;
  const seen: Reply[] = [];
  /** Every answer of the test goes through here: none may be a 500. */
  const send: Api = async (...args) => {
    const reply = await call(...args);
    seen.push(reply);
    return reply;
  };
  const statusAndCode = (r: Reply) => [r.status, r.body?.error];

  before(async () => {
    foreign = await foreignServer();
    projects = await startTestApp({
      env: {
        ...clientTls(),
        DATA_DIR: tempDir(),
        EVENT_BUS_URL: REDIS_URL,
        BUS_STREAM_PREFIX: prefix,
        MODULES: 'crowdfund.projects',
        CROWDFUND_THREADS_URL: `grpcs://localhost:${foreign.port}`,
        RPC_TIMEOUT_MS: '1000',
        RPC_RETRIES: '1',
      },
    });
    call = api(projects.url);
    const proposed = await send('POST', '/projects/propose', proposal('Foreign'));
    assert.equal(proposed.status, 200, JSON.stringify(proposed.body));
    id = proposed.body.project_id;
  });
  after(async () => {
    await projects?.close();
    foreign?.stop();
    await deleteRedisKeys(prefix);
    assert.deepEqual(
      seen.filter((r) => r.status >= 500 && r.status !== 502 && r.status !== 503).map((r) => [r.status, r.body]),
      [],
      'no 500 from cantons',
    );
  });

  it('empty answers (legal under its proto): reads serve what they can, a write that answers no thread is 502, missing rpcs 502', async () => {
    answers.GetProjectThreads = () => ({ value: {} });
    answers.UpdateThreads = () => ({ value: {} });
    const detail = await send('GET', `/projects/${id}`);
    assert.deepEqual([detail.status, detail.body.threads, detail.body.threads_unavailable], [200, [], undefined]);
    assert.deepEqual((await send('GET', `/projects/${id}/threads`)).body, { items: [], next_cursor: null });
    // CountThreads is not in the original proto: UNIMPLEMENTED, and the list degrades.
    const list = await send('GET', '/projects');
    assert.deepEqual([list.status, list.body.items[0].thread_counts, list.body.threads_unavailable?.error], [200, null, 'ROLE_INVALID_ANSWER']);

    const posted = await send('POST', `/projects/${id}/threads`, { thread_type: 'comment', message: 'hello' });
    assert.deepEqual(statusAndCode(posted), [502, 'ROLE_INVALID_ANSWER']);
    assert.match(posted.body.message, /without the thread it wrote/);
    for (const [method, path, body] of [
      ['PATCH', '/threads/1', { message: 'x' }],
      ['POST', '/threads/1/votes', { direction: 'up' }],
      ['GET', '/threads/1/replies', undefined],
    ] as const) {
      const r = await send(method, path, body);
      assert.deepEqual(statusAndCode(r), [502, 'ROLE_INVALID_ANSWER'], `${method} ${path}`);
      assert.match(r.body.message, /does not implement/);
    }
  });

  it('answers that break the contract: 502, or threads: null where the read degrades; nothing of theirs is quoted', async () => {
    answers.GetProjectThreads = () => ({ value: { threads: [{ thread_id: 0, project_id: id, message: 'their words' }] } });
    const detail = await send('GET', `/projects/${id}`);
    assert.deepEqual([detail.status, detail.body.threads, detail.body.threads_unavailable?.error], [200, null, 'ROLE_INVALID_ANSWER']);
    assert.match(detail.body.threads_unavailable.message, /GetProjectThreads outside its contract: threads\.0\.thread_id/);
    const page = await send('GET', `/projects/${id}/threads`);
    assert.deepEqual(statusAndCode(page), [502, 'ROLE_INVALID_ANSWER']);
    assert.doesNotMatch(JSON.stringify([detail.body, page.body]), /their words|localhost|\d{5}/);
  });

  it('UNIMPLEMENTED is 502 and INTERNAL is 503, or threads: null on the reads that degrade', async () => {
    answers.GetProjectThreads = () => ({ error: { code: status.UNIMPLEMENTED, details: 'not here' } });
    answers.UpdateThreads = answers.GetProjectThreads;
    let detail = await send('GET', `/projects/${id}`);
    assert.deepEqual([detail.status, detail.body.threads, detail.body.threads_unavailable?.error], [200, null, 'ROLE_INVALID_ANSWER']);
    assert.deepEqual(statusAndCode(await send('POST', `/projects/${id}/threads`, { thread_type: 'comment', message: 'x' })), [502, 'ROLE_INVALID_ANSWER']);

    answers.GetProjectThreads = () => ({ error: { code: status.INTERNAL, details: 'their stack trace' } });
    answers.UpdateThreads = answers.GetProjectThreads;
    detail = await send('GET', `/projects/${id}`);
    assert.deepEqual([detail.status, detail.body.threads, detail.body.threads_unavailable?.error], [200, null, 'ROLE_UNAVAILABLE']);
    assert.deepEqual(statusAndCode(await send('GET', `/projects/${id}/threads`)), [503, 'ROLE_UNAVAILABLE']);
    const posted = await send('POST', `/projects/${id}/threads`, { thread_type: 'comment', message: 'x' });
    assert.deepEqual(statusAndCode(posted), [503, 'ROLE_UNAVAILABLE']);
    assert.doesNotMatch(JSON.stringify([detail.body, posted.body]), /their stack trace/);
  });
});
