// The spans trace.test.ts does not cover, each exported by real processes to a real OTLP/HTTP receiver: the
// benchmark's calls to its target and to SMTP, the cache's etcd calls, a dead letter's replay, a role call over
// gRPC with mutual TLS, and the samplers OTEL_TRACES_SAMPLER names.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { z } from 'zod';
import { startSmtp, type TestSmtp } from '../../modules/benchmark/testing/smtp.ts';
import { clientTls, grpcClient, proposal, serverTls, THREADS_PROTO } from '../../modules/crowdfund/testing/index.ts';
import { startEtcd, type EtcdServer } from '../testing/etcd.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../testing/otlp-receiver.ts';
import {
  createTestDatabase,
  deleteRedisKeys,
  freePort,
  gate,
  REDIS_URL,
  ROOT,
  spawnApp,
  tempDir,
  uniqueName,
  waitFor,
  type SpawnedApp,
} from '../testing/index.ts';
import { otelConfigFields } from './config.ts';

// Every gate is settled before the first test is declared: a describe declared after an await would run after the
// root's after() closed the receiver.
const needsEtcd = await gate('etcd');
const needsPostgresAndRedis = await gate('postgres', 'redis');

let receiver: OtlpReceiver;
const started: SpawnedApp[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await Promise.all(started.map((a) => a.stop()));
  for (const c of cleanups) await c().catch(() => undefined);
  await receiver.close();
});

/** The exporter settings every process here gets: JSON to the receiver, exported every 50 ms. */
const otel = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' });

async function spawn(env: Record<string, string>): Promise<SpawnedApp> {
  const app = await spawnApp({ ...otel(), BUS_POLL_MS: '50', ...env });
  started.push(app);
  return app;
}

/** `traceresponse: 00-<trace id>-<span id>-<flags>`, split. */
function traceresponse(res: Response): { traceId: string; spanId: string; sampled: boolean } {
  const [, traceId, spanId, flags] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/.exec(res.headers.get('traceresponse') ?? '') ?? [];
  assert.ok(traceId, `${res.url} answered without a traceresponse header`);
  return { traceId, spanId, sampled: flags === '01' };
}

async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined, ...traceresponse(res) };
}

const listed = (spans: ReceivedSpan[]) => JSON.stringify(spans.map((s) => `${s.service} ${s.kind} ${s.name}`));
const named = (name: string, kind?: string) => receiver.spans.filter((s) => s.name === name && (!kind || s.kind === kind));
const parentOf = (s: ReceivedSpan) => receiver.spans.find((p) => p.spanId === s.parentSpanId && p.traceId === s.traceId);

/** Waits for spans that `pick` finds; returns them. */
async function spansOf(what: string, pick: () => ReceivedSpan[], count = 1): Promise<ReceivedSpan[]> {
  let found: ReceivedSpan[] = [];
  await receiver
    .until(what, () => {
      found = pick();
      return found.length >= count;
    })
    .catch((err: Error) => {
      const outputs = started.map((a) => `--- ${a.url}:\n${a.output().slice(-1500)}`).join('\n');
      throw new Error(`${err.message}; received ${listed(receiver.spans)}\n${outputs}`);
    });
  return found;
}

const benchmarkEnv = {
  MODULES: 'benchmark',
  BENCHMARK_TARGET_DELAY_MS: '5-30',
  BUS_POLL_MS: '20',
  // The sweep takes up a step nobody is taking (after a crash): every 50 ms it raced the event that takes it here, and
  // a step it took first is a trace of its own. This test is about the event's trace: the sweep stays out of the way.
  BENCHMARK_SWEEP_MS: '60000',
  BENCHMARK_HTTP_TIMEOUT_MS: '2000',
  BENCHMARK_NOTIFY_TO: 'team@example.com',
};
const startBody = (target: string) => ({
  name: 'Traced benchmark',
  benchmark_type: 'latency',
  target_infra: 'docker__local',
  target_url: target,
  target_eigen_platform_version: '5.11.0',
  username: 'adminsam',
  password: 'S3cret-Target-Pa55word',
  documents: { count: 3, size_bytes: 512 },
});

/** Starts a benchmark on the process's own built-in target; waits for its end. */
async function runBenchmark(app: SpawnedApp): Promise<string> {
  const started = await call(`${app.url}/api/v1/benchmarks/start`, 'POST', startBody(`${app.url}/target`));
  assert.equal(started.status, 202, started.text);
  const id: string = started.json.benchmark_id;
  const view = await waitFor(
    `benchmark ${id} to end`,
    async () => {
      const got = await call(`${app.url}/api/v1/benchmarks/${id}`, 'GET');
      return got.status === 200 && got.json.status !== 'running' ? got.json : undefined;
    },
    20_000,
    25,
  );
  assert.equal(view.status, 'completed', JSON.stringify(view));
  return id;
}

describe('benchmark: target and SMTP calls as client spans of the step that made them', () => {
  let smtp: TestSmtp;
  before(async () => {
    smtp = await startSmtp();
    cleanups.push(() => smtp.close());
  });

  it('login, create project and upload under the BenchmarkCreated step; the email under ReportCompleted', async () => {
    const app = await spawn({ ...benchmarkEnv, SMTP_URL: smtp.url });
    await runBenchmark(app);
    await waitFor('the report email', () => smtp.mails.length === 1, 10_000);

    // The target's steps: client spans, children of the consumer span of BenchmarkCreated (the step after its commit).
    const [login] = await spansOf('target login', () => named('target login', 'client'));
    const step = parentOf(login);
    assert.ok(step, `the parent of target login arrived: ${listed(receiver.trace(login.traceId))}`);
    assert.deepEqual([step.name, step.kind], ['process benchmark.benchmark_created', 'consumer']);
    const [project] = await spansOf('target create project', () => named('target create project', 'client'));
    const [upload] = await spansOf('target upload', () => named('target upload', 'client'));
    for (const s of [project, upload]) assert.equal(s.parentSpanId, step.spanId, `${s.name} is a child of the step`);
    assert.equal(login.attributes['http.request.method'], 'POST');
    assert.match(String(upload.attributes['url.full']), /\/target\/api\/v1\/document_uploader\/$/);
    // One trace from the public request that started it, through its event, to the target.
    const trace = receiver.trace(login.traceId);
    assert.ok(
      trace.some((s) => s.name === 'POST /api/v1/benchmarks/start' && s.kind === 'server'),
      `the start request in the trace: ${listed(trace)}`,
    );

    // The email: a client span, child of the consumer span of ReportCompleted, in that event's trace.
    const [send] = await spansOf('smtp send', () => named('smtp send', 'client'));
    const mailStep = parentOf(send);
    assert.ok(mailStep, `the parent of smtp send arrived: ${listed(receiver.trace(send.traceId))}`);
    assert.deepEqual([mailStep.name, mailStep.kind], ['process benchmark.report_completed', 'consumer']);
    assert.equal(send.attributes['server.address'], '127.0.0.1');
    assert.equal(send.attributes['server.port'], smtp.port);
    assert.ok(
      receiver.trace(send.traceId).some((s) => s.name === 'publish benchmark.report_completed' && s.spanId === mailStep.parentSpanId),
      'the ReportCompleted step is a child of its publish span',
    );
  });

  it('a dead letter replayed (npm run dead-letters -- replay) is a trace of its own, linked to the original one', async () => {
    // Refused, and given up at once (a 1 ms retry window): the report email becomes a dead letter.
    smtp.refuse = true;
    const dataDir = tempDir();
    const env = { ...benchmarkEnv, SMTP_URL: smtp.url, BENCHMARK_MAIL_RETRY_MS: '1', DATA_DIR: dataDir, OTEL_SERVICE_NAME: 'cantons-dead-letter-test' };
    const app = await spawn(env);
    const id = await runBenchmark(app);
    const [refused] = await spansOf('the refused smtp send', () =>
      receiver.spans.filter((s) => s.name === 'smtp send' && s.service === 'cantons-dead-letter-test'),
    );
    await waitFor('the dead letter', () => /dead-lettered/.test(app.output()), 10_000);
    await app.stop();
    const original = receiver.trace(refused.traceId);

    smtp.refuse = false;
    const mails = smtp.mails.length;
    // Not spawnSync: the SMTP server answers from this process.
    const replay = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'kernel/cli.ts'), 'dead-letters', 'replay'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...otel(), ...env, OTEL_SERVICE_NAME: 'cantons-replay-test' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.match(replay.stdout, /replayed 1, failed again 0/, replay.stderr);
    assert.equal(smtp.mails.length, mails + 1, 'the replay sent the email');
    assert.match(smtp.mails.at(-1)!.raw, new RegExp(`benchmark-${id}@cantons`));

    const [span] = await spansOf('the replay span', () => named('replay benchmark.report_completed', 'consumer'));
    assert.equal(span.service, 'cantons-replay-test');
    assert.equal(span.parentSpanId, undefined, 'a trace of its own');
    assert.notEqual(span.traceId, refused.traceId);
    // Linked to the span the email gave up in: the original trace, the ReportCompleted step that tried to send it.
    assert.equal(span.links.length, 1, JSON.stringify(span.links));
    assert.equal(span.links[0].traceId, refused.traceId);
    const linked = original.find((s) => s.spanId === span.links[0].spanId);
    assert.ok(linked, `the linked span is in the original trace: ${listed(original)}`);
    assert.ok(
      original.some((s) => s.name === 'process benchmark.report_completed' && s.spanId === refused.parentSpanId),
      'the original trace holds the step that gave up',
    );
    // What the replay did is under it: the email sent again.
    const [resend] = await spansOf('the replayed smtp send', () => receiver.spans.filter((s) => s.name === 'smtp send' && s.service === 'cantons-replay-test'));
    assert.equal(resend.traceId, span.traceId);
    assert.equal(resend.parentSpanId, span.spanId);
  });
});

describe('cache: one client span per etcd call the API makes', needsEtcd, () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await startEtcd();
    cleanups.push(() => etcd.close());
  });

  it('PUT, a fresh GET and DELETE each make one etcd span under their request; the watch and cached reads make none', async () => {
    const app = await spawn({ MODULES: 'cache', ETCD_URL: etcd.url, CACHE_KEY_PREFIX: `/${uniqueName('trace')}/`, OTEL_SERVICE_NAME: 'cantons-cache-test' });
    // The informer's first list: one span of its own trace.
    const [resync] = await spansOf('etcd resync', () => named('etcd resync', 'client'));
    assert.equal(resync.parentSpanId, undefined);

    const put = await call(`${app.url}/config/traced`, 'PUT', { on: true });
    assert.equal(put.status, 200, put.text);
    const fresh = await call(`${app.url}/config/traced?use_cache=false`, 'GET');
    assert.equal(fresh.status, 200, fresh.text);
    const cached = await call(`${app.url}/config/traced`, 'GET');
    assert.equal(cached.status, 200, cached.text);
    const del = await call(`${app.url}/config/traced`, 'DELETE');
    assert.ok(del.status < 300, del.text);

    for (const [req, name] of [
      [put, 'etcd write'],
      [fresh, 'etcd read'],
      [del, 'etcd delete'],
    ] as const) {
      const [span] = await spansOf(name, () => receiver.trace(req.traceId).filter((s) => s.name === name));
      assert.equal(span.kind, 'client');
      assert.equal(span.parentSpanId, req.spanId, `${name} is a child of its request`);
      assert.equal(span.attributes['db.system.name'], 'etcd');
      assert.deepEqual(
        receiver.trace(req.traceId).filter((s) => s.name.startsWith('etcd ')),
        [span],
        `one etcd span in the trace of ${name}`,
      );
    }
    await spansOf('the cached read', () => receiver.trace(cached.traceId).filter((s) => s.kind === 'server'));
    assert.deepEqual(
      receiver.trace(cached.traceId).filter((s) => s.name.startsWith('etcd ')),
      [],
      'a cached read does not call etcd',
    );
    // The watch delivered the put and the delete: no span of its own, no second resync.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      receiver.spans
        .filter((s) => s.service === 'cantons-cache-test' && s.name.startsWith('etcd '))
        .map((s) => s.name)
        .sort(),
      ['etcd delete', 'etcd read', 'etcd resync', 'etcd write'],
    );
  });
});

describe('crowdfund split: a role call over gRPC with mutual TLS is a client/server pair of one trace', needsPostgresAndRedis, () => {
  it('POST /projects/propose reaches the threads process over Redis Streams; GET /projects/:id calls it over gRPC', async () => {
    const prefix = uniqueName('cantons-test-trace-grpc');
    const database = await createTestDatabase('trace_grpc');
    cleanups.push(
      () => database.drop(),
      () => deleteRedisKeys(prefix),
    );
    const grpcPort = await freePort();
    const shared = { DATA_DIR: tempDir(), DATABASE_URL: database.url, EVENT_BUS_URL: REDIS_URL, BUS_STREAM_PREFIX: prefix };
    await spawn({ ...shared, ...serverTls(), MODULES: 'crowdfund.threads', GRPC_PORT: String(grpcPort) });
    const projects = await spawn({
      ...shared,
      ...clientTls(),
      MODULES: 'crowdfund.projects',
      CROWDFUND_THREADS_URL: `grpcs://localhost:${grpcPort}`,
    });

    // The proposal's trace: the threads are made from its event, in the other process, under its publish span.
    const proposed = await call(`${projects.url}/projects/propose`, 'POST', proposal('Traced over gRPC'));
    assert.equal(proposed.status, 200, proposed.text);
    const [handler] = await spansOf('the ProjectProposed handler in the threads process', () =>
      // …and its parent, which the other process exports on its own.
      receiver.trace(proposed.traceId).filter((s) => s.kind === 'consumer' && s.service === 'cantons:crowdfund.threads' && parentOf(s)),
    );
    assert.equal(parentOf(handler)?.kind, 'producer');

    // A read of the project calls threads over gRPC: a client span here, its server span there, one trace.
    const id = proposed.json.project_id;
    const read = await waitFor(
      'the project with its threads',
      async () => {
        const got = await call(`${projects.url}/projects/${id}`, 'GET');
        return got.json?.threads?.length === 3 ? got : undefined;
      },
      10_000,
    );
    const rpc = 'crowdfund.threads/getProjectThreads';
    // Each process exports on its own: wait for both halves.
    const pair = await spansOf('the client span here and the server span there', () => receiver.trace(read.traceId).filter((s) => s.name === rpc), 2);
    assert.deepEqual(pair.map((s) => s.kind).sort(), ['client', 'server'], listed(receiver.trace(read.traceId)));
    const client = pair.find((s) => s.kind === 'client')!;
    const server = pair.find((s) => s.kind === 'server')!;
    assert.equal(client.service, 'cantons:crowdfund.projects');
    assert.equal(client.parentSpanId, read.spanId);
    assert.equal(server.service, 'cantons:crowdfund.threads');
    assert.equal(server.parentSpanId, client.spanId, 'the server span continues the context the client sent');

    // The server reads traceparent from the call's metadata: a client of our own sends one, the span continues it.
    const direct = grpcClient(THREADS_PROTO, grpcPort);
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const metadata = new Metadata();
      metadata.set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`);
      await new Promise<void>((resolve, reject) =>
        direct.GetProjectThreads({ project_id: id, limit: 10 }, metadata, { deadline: Date.now() + 10_000 }, (err: Error | null) =>
          err ? reject(err) : resolve(),
        ),
      );
      const [continued] = await spansOf('the server span of the direct call', () => receiver.trace(traceId).filter((s) => s.name === rpc));
      assert.equal(continued.kind, 'server');
      assert.equal(continued.parentSpanId, '00f067aa0ba902b7');
    } finally {
      direct.close();
    }
  });
});

describe('OTEL_TRACES_SAMPLER', () => {
  it('parses the samplers and their ratio; refuses a ratio outside 0..1', () => {
    const schema = z.object(otelConfigFields);
    const parsed = schema.parse({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' });
    assert.deepEqual([parsed.OTEL_TRACES_SAMPLER, parsed.OTEL_TRACES_SAMPLER_ARG], ['traceidratio', 0.25]);
    assert.equal(schema.parse({}).OTEL_TRACES_SAMPLER, 'parentbased_always_on');
    assert.equal(schema.safeParse({ OTEL_TRACES_SAMPLER_ARG: '2' }).success, false);
    assert.equal(schema.safeParse({ OTEL_TRACES_SAMPLER: 'sometimes' }).success, false);
  });

  // The caller's traceparent says "sampled" every time: these samplers do not follow it.
  const parent = (traceId: string) => ({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` });

  it('always_off exports nothing, whatever the caller decided', async () => {
    const app = await spawn({ MODULES: 'shop.products', OTEL_TRACES_SAMPLER: 'always_off', OTEL_SERVICE_NAME: 'cantons-always-off' });
    const traceId = 'a1000000000000000000000000000001';
    const res = await call(`${app.url}/products`, 'GET', undefined, parent(traceId));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.traceId, traceId);
    assert.equal(res.sampled, false, 'traceresponse says not sampled');
    await app.stop(); // flushes what the batch processor holds
    assert.deepEqual(listed(receiver.spans.filter((s) => s.service === 'cantons-always-off')), '[]');
  });

  it('traceidratio with OTEL_TRACES_SAMPLER_ARG samples by trace id, not by the caller', async () => {
    const app = await spawn({
      MODULES: 'shop.products',
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.5',
      OTEL_SERVICE_NAME: 'cantons-ratio',
    });
    // The ratio sampler compares the trace id (its 32-bit words XORed) with ratio × 2³²: low is in, high is out.
    const low = '00000000000000000000000000000001';
    const high = 'f0000000000000000000000000000000';
    const kept = await call(`${app.url}/products`, 'GET', undefined, parent(low));
    const dropped = await call(`${app.url}/products`, 'GET', undefined, parent(high));
    assert.deepEqual([kept.sampled, dropped.sampled], [true, false]);
    await spansOf('the sampled request', () => receiver.trace(low));
    await app.stop();
    assert.deepEqual(
      receiver.spans.filter((s) => s.service === 'cantons-ratio').map((s) => s.traceId),
      receiver.trace(low).map((s) => s.traceId),
    );
    assert.equal(receiver.trace(high).length, 0);
  });
});
