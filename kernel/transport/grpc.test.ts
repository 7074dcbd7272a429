// The gRPC transport over real sockets on 127.0.0.1 with certificates made per run: TLS, mTLS, refusals, errors, deadlines, health, reflection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, loadPackageDefinition, Metadata, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { defineContract, method, remoteFacade } from '../contract.ts';
import { AppError } from '../errors.ts';
import { makeCertificates, type TestCertificates } from '../testing/certificates.ts';
import { freePort } from '../testing/index.ts';
import { grpcTransport, type GrpcTransportOptions } from './grpc-client.ts';
import { HEALTH_PROTO } from './grpc-health.ts';
import { fastEncoder } from './grpc-encode.ts';
import { LOADER_OPTIONS } from './grpc-proto.ts';
import { startGrpcServer, type GrpcServer } from './grpc-server.ts';
import type { GrpcTlsSettings } from './grpc-tls.ts';

const DEMO_PROTO = new URL('../grpc/fixtures/demo.proto', import.meta.url).pathname;
const REFLECTION_PROTO = new URL('../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto', import.meta.url).pathname;
const AT = '2026-01-02T03:04:05.678Z';
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const demoContract = defineContract(
  'demo.grpc',
  {
    get: method({ input: z.object({ id: z.int().min(1) }), output: z.object({ id: z.int(), name: z.string(), at: z.string() }), idempotent: true }),
    fail: method({ input: z.object({ status: z.int(), code: z.string() }), output: z.object({}) }),
    slow: method({ input: z.object({ ms: z.int().min(0) }), output: z.object({}) }),
  },
  { proto: { file: DEMO_PROTO, service: 'demo.v1.Demo' } },
);

let handled = 0;
const impl = {
  async get({ id }: { id: number }) {
    handled++;
    return { id, name: `item ${id}`, at: AT };
  },
  async fail({ status, code }: { status: number; code: string }) {
    handled++;
    if (status === 500) throw new Error('secret internals');
    throw new AppError(code, status, `failed with ${status}`, { why: 'on purpose' });
  },
  async slow({ ms }: { ms: number }) {
    handled++;
    await new Promise((r) => setTimeout(r, ms));
    return {};
  },
};

let certs: TestCertificates;
const servers: GrpcServer[] = [];
let ready = true;

async function serve(tls: GrpcTlsSettings, metrics = new Registry(), host = '127.0.0.1', token?: string): Promise<number> {
  const server = await startGrpcServer({
    host,
    port: 0,
    tls,
    keepaliveMs: 30_000,
    maxMessageBytes: 1 << 20,
    log,
    metrics,
    token,
    services: [{ contract: demoContract, facade: () => impl, ready: async () => ready }],
  });
  servers.push(server);
  return server.port;
}

function client(url: string, tls: Partial<GrpcTlsSettings>, over: Partial<GrpcTransportOptions> = {}) {
  const transport = grpcTransport({
    url,
    timeoutMs: 2000,
    retries: 2,
    retryBaseMs: 10,
    keepaliveMs: 30_000,
    maxMessageBytes: 1 << 20,
    tls: { insecure: false, ...tls },
    log,
    ...over,
  });
  return { facade: remoteFacade(demoContract, transport), transport };
}

/** A grpc-js client built from a .proto alone, as any other program would. */
function rawClient(proto: string, service: string, port: number, creds = credentials.createSsl(null)) {
  const pkg = loadPackageDefinition(loadSync(proto, LOADER_OPTIONS)) as GrpcObject;
  const Ctor = service.split('.').reduce((o: any, k) => o[k], pkg) as ServiceClientConstructor;
  return new Ctor(`127.0.0.1:${port}`, creds);
}

const unary = (c: any, rpc: string, req: unknown) =>
  new Promise<{ err: ServiceError | null; value: any }>((resolve) =>
    c[rpc](req, new Metadata(), { deadline: Date.now() + 2000 }, (err: ServiceError | null, value: any) => resolve({ err, value })),
  );

async function rejectsWith(call: Promise<unknown>, code: string, status: number): Promise<AppError> {
  const err = await call.then(
    () => assert.fail(`expected ${code}`),
    (e) => e,
  );
  assert.ok(err instanceof AppError, String(err));
  assert.deepEqual([err.code, err.status], [code, status], err.message);
  return err;
}

describe('gRPC transport', () => {
  let mtlsPort: number;
  let tlsPort: number;
  const metrics = new Registry();
  before(async () => {
    certs = makeCertificates();
    mtlsPort = await serve({ certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.ca, insecure: false }, metrics);
    tlsPort = await serve({ certFile: certs.serverCert, keyFile: certs.serverKey, insecure: false });
  });
  after(async () => {
    for (const s of servers) await s.stop(100);
  });

  const mtlsClient = () => client(`grpcs://127.0.0.1:${mtlsPort}`, { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey }, { metrics });

  it('calls over mutual TLS; a Timestamp is an ISO string on both sides', async () => {
    const { facade, transport } = mtlsClient();
    assert.deepEqual(await facade.get({ id: 7 }), { id: 7, name: 'item 7', at: AT });
    await transport.close?.();
  });

  it('TLS without client certificates: a client with only the CA is served; localhost verifies too', async () => {
    const { facade } = client(`grpcs://localhost:${tlsPort}`, { caFile: certs.ca });
    assert.equal((await facade.get({ id: 1 })).name, 'item 1');
    // GRPC_TLS_SERVER_NAME: the name checked in the certificate instead of the URL's host.
    assert.equal((await client(`grpcs://127.0.0.1:${tlsPort}`, { caFile: certs.ca, serverName: 'localhost' }).facade.get({ id: 2 })).name, 'item 2');
    await rejectsWith(
      client(`grpcs://127.0.0.1:${tlsPort}`, { caFile: certs.ca, serverName: 'threads.example' }, { retries: 0 }).facade.get({ id: 3 }),
      'ROLE_UNAVAILABLE',
      503,
    );
  });

  it('refuses a client without a certificate, one from another CA, and plaintext; no handler runs', async () => {
    const before = handled;
    const noCert = client(`grpcs://127.0.0.1:${mtlsPort}`, { caFile: certs.ca }, { retries: 0 });
    await rejectsWith(noCert.facade.get({ id: 1 }), 'ROLE_UNAVAILABLE', 503);
    const stranger = client(`grpcs://127.0.0.1:${mtlsPort}`, { caFile: certs.ca, certFile: certs.strangerCert, keyFile: certs.strangerKey }, { retries: 0 });
    await rejectsWith(stranger.facade.get({ id: 1 }), 'ROLE_UNAVAILABLE', 503);
    const plaintext = client(`grpc://127.0.0.1:${tlsPort}`, {}, { retries: 0 });
    await rejectsWith(plaintext.facade.get({ id: 1 }), 'ROLE_UNAVAILABLE', 503);
    // And a TLS client that does not trust the server's CA.
    const untrusting = client(`grpcs://127.0.0.1:${tlsPort}`, {}, { retries: 0 });
    const err = await rejectsWith(untrusting.facade.get({ id: 1 }), 'ROLE_UNAVAILABLE', 503);
    assert.doesNotMatch(err.message, /127\.0\.0\.1/, 'public messages name the role, not its address');
    assert.equal(handled, before);
  });

  it('maps errors both ways: the caller sees the catalogue code and status; gRPC clients see the status code', async () => {
    const { facade } = mtlsClient();
    const raw = rawClient(
      DEMO_PROTO,
      'demo.v1.Demo',
      mtlsPort,
      credentials.createSsl(
        Buffer.from(await import('node:fs').then((fs) => fs.readFileSync(certs.ca))),
        await import('node:fs').then((fs) => fs.readFileSync(certs.clientKey)),
        await import('node:fs').then((fs) => fs.readFileSync(certs.clientCert)),
      ),
    );
    const cases: Array<[number, string, string]> = [
      [400, 'VALIDATION_ERROR', 'INVALID_ARGUMENT'],
      [401, 'UNAUTHENTICATED', 'UNAUTHENTICATED'],
      [404, 'ITEM_NOT_FOUND', 'NOT_FOUND'],
      [409, 'ITEM_EXISTS', 'ALREADY_EXISTS'],
      [503, 'NOT_READY', 'UNAVAILABLE'],
      [422, 'KEY_REUSED', 'INTERNAL'],
    ];
    for (const [status, code, grpcCode] of cases) {
      const err = await rejectsWith(facade.fail({ status, code }), code, status);
      assert.equal(err.message, `failed with ${status}`);
      assert.deepEqual(err.details, { why: 'on purpose' });
      const { err: rawErr } = await unary(raw, 'Fail', { status, code });
      assert.equal(rawErr?.code, (await import('@grpc/grpc-js')).status[grpcCode as 'INTERNAL'], `${status} → ${grpcCode}`);
    }
    const unexpected = await rejectsWith(facade.fail({ status: 500, code: 'x' }), 'UNEXPECTED_ERROR', 500);
    assert.doesNotMatch(unexpected.message, /secret/);

    // Bad input from a client built from the .proto alone: INVALID_ARGUMENT naming the field, no handler run.
    const before = handled;
    const { err } = await unary(raw, 'Get', { id: 0 });
    assert.equal(err?.code, 3);
    assert.match(err!.details, /id/);
    assert.equal(err!.metadata.get('cantons-error-code')[0], 'VALIDATION_ERROR');
    assert.equal(handled, before);
    raw.close();
  });

  it('a deadline ends a slow call; a non-idempotent method is tried once, an idempotent one RPC_RETRIES more times', async () => {
    const { facade } = client(
      `grpcs://127.0.0.1:${mtlsPort}`,
      { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey },
      { timeoutMs: 100, retries: 2 },
    );
    const before = handled;
    await rejectsWith(facade.slow({ ms: 400 }), 'ROLE_UNAVAILABLE', 503);
    assert.equal(handled - before, 1, 'slow is not idempotent: one attempt');

    const closed = await freePort();
    const registry = new Registry();
    const down = client(`grpc://127.0.0.1:${closed}`, {}, { retries: 2, metrics: registry });
    await rejectsWith(down.facade.get({ id: 1 }), 'ROLE_UNAVAILABLE', 503);
    const attempts = (await registry.getSingleMetric('cantons_grpc_client_calls_total')!.get()).values;
    assert.deepEqual(
      attempts.map((v) => [v.labels.method, v.labels.code, v.value]),
      [['Get', 'UNAVAILABLE', 3]],
    );
  });

  it('reports calls, status codes and latency per rpc in the registry', async () => {
    const calls = (await metrics.getSingleMetric('cantons_grpc_server_calls_total')!.get()).values;
    const ok = calls.find((v) => v.labels.method === 'Get' && v.labels.code === 'OK');
    assert.ok(ok && ok.value >= 1, JSON.stringify(calls));
    assert.ok(calls.some((v) => v.labels.method === 'Fail' && v.labels.code === 'NOT_FOUND'));
    assert.ok(calls.some((v) => v.labels.method === 'Get' && v.labels.code === 'INVALID_ARGUMENT'));
    assert.match(await metrics.metrics(), /cantons_grpc_server_duration_seconds_bucket\{.*service="demo.v1.Demo",method="Get"/);
    assert.match(await metrics.metrics(), /cantons_grpc_client_calls_total\{service="demo.v1.Demo",method="Get",code="OK"\}/);
  });

  it('serves grpc.health.v1: SERVING while ready, NOT_SERVING when not, NOT_FOUND for an unknown service', async () => {
    const health = rawClient(
      HEALTH_PROTO,
      'grpc.health.v1.Health',
      tlsPort,
      credentials.createSsl(await import('node:fs').then((fs) => fs.readFileSync(certs.ca))),
    );
    assert.equal((await unary(health, 'Check', { service: '' })).value.status, 'SERVING');
    assert.equal((await unary(health, 'Check', { service: 'demo.v1.Demo' })).value.status, 'SERVING');
    ready = false;
    assert.equal((await unary(health, 'Check', { service: 'demo.v1.Demo' })).value.status, 'NOT_SERVING');
    assert.equal((await unary(health, 'Check', { service: '' })).value.status, 'NOT_SERVING');
    ready = true;
    assert.equal((await unary(health, 'Check', { service: 'nope' })).err?.code, 5);
    health.close();
  });

  it('health Watch streams a change of status; a taken port fails start-up naming GRPC_PORT', async () => {
    const health = rawClient(
      HEALTH_PROTO,
      'grpc.health.v1.Health',
      tlsPort,
      credentials.createSsl(await import('node:fs').then((fs) => fs.readFileSync(certs.ca))),
    );
    const seen: string[] = [];
    const stream = health.Watch({ service: 'demo.v1.Demo' });
    stream.on('data', (r: { status: string }) => seen.push(r.status));
    stream.on('error', () => {});
    const until = async (n: number) => {
      for (let i = 0; i < 300 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(1);
    ready = false;
    await until(2);
    ready = true;
    await until(3);
    stream.cancel();
    health.close();
    assert.deepEqual(seen, ['SERVING', 'NOT_SERVING', 'SERVING']);
    await assert.rejects(
      startGrpcServer({
        host: '127.0.0.1',
        port: tlsPort,
        tls: { insecure: false },
        keepaliveMs: 30_000,
        maxMessageBytes: 1 << 20,
        log,
        metrics: new Registry(),
        services: [],
      }),
      { name: 'StartupError', message: `port ${tlsPort} is in use (GRPC_HOST 127.0.0.1); set GRPC_PORT to another port` },
    );
  });

  it('serves reflection: the services are listed', async () => {
    const reflection = rawClient(
      REFLECTION_PROTO,
      'grpc.reflection.v1.ServerReflection',
      tlsPort,
      credentials.createSsl(await import('node:fs').then((fs) => fs.readFileSync(certs.ca))),
    );
    const names = await new Promise<string[]>((resolve, reject) => {
      const stream = reflection.ServerReflectionInfo();
      stream.on('data', (res: any) => {
        resolve(res.list_services_response.service.map((s: { name: string }) => s.name));
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ list_services: '' });
    });
    assert.ok(names.includes('demo.v1.Demo'), names.join());
    assert.ok(names.includes('grpc.health.v1.Health'), names.join());
    reflection.close();
  });

  it('refuses plaintext off loopback unless GRPC_INSECURE, on both ends', async () => {
    const token = 'a-deployment-token-of-some-length';
    await assert.rejects(serve({ insecure: false }, new Registry(), '0.0.0.0', token), /GRPC_HOST 0\.0\.0\.0 is not a loopback address.*GRPC_TLS_CERT_FILE/);
    await serve({ insecure: true }, new Registry(), '0.0.0.0', token);
    assert.throws(() => client('grpc://10.1.2.3:9090', {}), /plaintext gRPC to a non-loopback host is refused/);
    assert.doesNotThrow(() => client('grpc://10.1.2.3:9090', { insecure: true }));
    assert.doesNotThrow(() => client('grpc://[::1]:9090', {}));
  });

  it('off loopback a call needs a credential: mutual TLS or RPC_TOKEN; a refused token is ROLE_UNAVAILABLE, no handler runs', async () => {
    const tls = { certFile: certs.serverCert, keyFile: certs.serverKey, insecure: false };
    await assert.rejects(serve(tls, new Registry(), '0.0.0.0'), /no credential: set GRPC_TLS_CA_FILE \(mutual TLS\) or RPC_TOKEN/);
    await serve({ ...tls, caFile: certs.ca }, new Registry(), '0.0.0.0');

    const token = 'a-deployment-token-of-some-length';
    const port = await serve(tls, new Registry(), '0.0.0.0', token);
    const before = handled;
    const without = client(`grpcs://127.0.0.1:${port}`, { caFile: certs.ca });
    const err = await rejectsWith(without.facade.get({ id: 1 }), 'ROLE_UNAVAILABLE', 503);
    assert.match(err.message, /demo\.grpc refused this process's RPC token/);
    await rejectsWith(
      client(`grpcs://127.0.0.1:${port}`, { caFile: certs.ca }, { token: 'a-wrong-token-of-the-same-size!!' }).facade.get({ id: 1 }),
      'ROLE_UNAVAILABLE',
      503,
    );
    assert.equal(handled, before);
    const withToken = client(`grpcs://127.0.0.1:${port}`, { caFile: certs.ca }, { token });
    assert.equal((await withToken.facade.get({ id: 2 })).name, 'item 2');
  });
});

describe('gRPC answers encoded straight from the facade object (grpc-encode.ts)', () => {
  const pkg = loadSync(DEMO_PROTO, { ...LOADER_OPTIONS, includeDirs: [new URL('../grpc/fixtures/', import.meta.url).pathname] });
  const item = pkg['demo.v1.Item'] as unknown as { serialize(v: unknown): Buffer };
  const encode = fastEncoder(pkg, 'demo.v1.Item')!;
  // What proto-loader writes for the same answer: Timestamps converted, then fromObject + encode.
  const slow = (v: { id?: number; name?: string; at?: string }) =>
    Buffer.from(
      item.serialize({
        ...v,
        at: v.at === undefined ? undefined : { seconds: Math.floor(Date.parse(v.at) / 1000), nanos: (((Date.parse(v.at) % 1000) + 1000) % 1000) * 1e6 },
      }),
    );

  it('writes byte for byte what proto-loader writes: zeros, empty and non-ASCII strings, 2^53 − 1, Timestamps before 1970, absent fields', () => {
    for (const v of [
      { id: 1, name: 'x', at: AT },
      { id: 0, name: '', at: '1970-01-01T00:00:00.000Z' },
      { id: 2 ** 53 - 1, name: 'héllo ✓ 😀'.repeat(50), at: '1969-12-31T23:59:59.500Z' },
      { id: 7 },
      { name: 'y'.repeat(70_000) },
    ])
      assert.deepEqual(encode(v), slow(v), JSON.stringify(v).slice(0, 80));
  });

  it('gives up (the server falls back to proto-loader) on what it does not write exactly: strings for integers, unsafe integers, bad dates', () => {
    for (const v of [{ id: '5' }, { id: 2 ** 53 }, { id: -1 }, { id: 1.5 }, { at: 'not a date' }, { name: 5 }])
      assert.equal(encode(v), undefined, JSON.stringify(v));
  });

  it('has no encoder for messages with fields it does not write (repeated scalars, bytes, floats, maps, oneofs)', () => {
    const health = loadSync(HEALTH_PROTO, LOADER_OPTIONS);
    assert.ok(fastEncoder(health, 'grpc.health.v1.HealthCheckResponse'), 'an enum field by number is written');
    const reflection = loadSync(REFLECTION_PROTO, LOADER_OPTIONS);
    assert.equal(fastEncoder(reflection, 'grpc.reflection.v1.ServerReflectionResponse'), undefined, 'oneofs and bytes');
  });
});
