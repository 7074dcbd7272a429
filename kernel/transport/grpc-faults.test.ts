// gRPC when things go wrong, over real sockets: a deadline storm beside ordinary calls, a reset connection, malformed bytes, a server that is not ours.
import assert from 'node:assert/strict';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { defineContract, method, remoteFacade } from '../contract.ts';
import { sendRaw } from '../grpc/testing/raw.ts';
import { failure, freePort, outcome } from '../testing/index.ts';
import { grpcTransport, type GrpcTransportOptions } from './grpc-client.ts';
import { startGrpcServer, type GrpcServer } from './grpc-server.ts';

const DEMO_PROTO = new URL('../grpc/fixtures/demo.proto', import.meta.url).pathname;

// The demo service's rpcs, with a slow call that may be tried again (the reset test needs one).
const contract = defineContract(
  'demo.faults',
  {
    get: method({ input: z.object({ id: z.int().min(1) }), output: z.object({ id: z.int(), name: z.string(), at: z.string() }), idempotent: true }),
    fail: method({ input: z.object({ status: z.int(), code: z.string() }), output: z.object({}) }),
    slow: method({ input: z.object({ ms: z.int().min(0) }), output: z.object({}), idempotent: true }),
  },
  { proto: { file: DEMO_PROTO, service: 'demo.v1.Demo' } },
);
/** The same rpcs, `slow` not idempotent: a write whose outcome a reset leaves unknown. */
const writeContract = defineContract(
  'demo.faults',
  { ...contract.methods, slow: method({ ...contract.methods.slow, idempotent: false }) },
  { proto: contract.proto },
);

const lines: Array<{ level: number; msg: string }> = [];
const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
let handled = 0;
const impl = {
  async get({ id }: { id: number }) {
    handled++;
    return { id, name: `item ${id}`, at: '2026-01-02T03:04:05.678Z' };
  },
  async fail({ code }: { status: number; code: string }) {
    handled++;
    // A backing service that is down, as a client library reports it: a real refused connection.
    if (code === 'storage') throw await new Promise((_, reject) => connect(closedPort, '127.0.0.1').once('error', reject));
    throw new Error('a bug of ours');
  },
  async slow({ ms }: { ms: number }) {
    handled++;
    await new Promise((r) => setTimeout(r, ms));
    return {};
  },
};

let closedPort: number;
let server: GrpcServer;

/** A TCP relay in front of the server: counts the connections the client opens and can cut them all (a reset). */
async function relay(target: number) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const front: NetServer = createServer((client) => {
    connections++;
    const upstream = connect(target, '127.0.0.1');
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        b.destroy();
        sockets.delete(a);
      });
    }
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  return {
    port: (front.address() as { port: number }).port,
    connections: () => connections,
    reset: () => {
      for (const s of sockets) s.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((r) => {
        front.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

function transport(port: number, over: Partial<GrpcTransportOptions> = {}) {
  return grpcTransport({
    url: `grpc://127.0.0.1:${port}`,
    timeoutMs: 5000,
    retries: 2,
    retryBaseMs: 10,
    keepaliveMs: 30_000,
    maxMessageBytes: 1 << 20,
    tls: { insecure: false },
    log,
    ...over,
  });
}

describe('gRPC faults', () => {
  before(async () => {
    closedPort = await freePort();
    server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      tls: { insecure: false },
      keepaliveMs: 30_000,
      maxMessageBytes: 1 << 20,
      log,
      metrics: new Registry(),
      services: [{ contract, facade: () => impl, ready: async () => true }],
    });
  });
  after(() => server.stop(100));

  it('a storm of 3,000 calls past their deadline leaves the connection, and 60 ordinary calls on it, unharmed', async () => {
    const front = await relay(server.port);
    // Two roles' transports to one process share one HTTP/2 connection (grpc-js pools it: same
    // address, options and credentials). The storm's breaker and bulkhead are set out of the way:
    // its deadlines alone are on trial.
    const storm = remoteFacade(contract, transport(front.port, { timeoutMs: 50, retries: 0, maxInFlight: 10_000, breakAfter: 1e9 }));
    // Writes: a call the connection's loss failed could not be tried again.
    const ordinary = remoteFacade(writeContract, transport(front.port));
    try {
      assert.equal((await ordinary.get({ id: 1 })).id, 1);
      const storming = Array.from({ length: 3000 }, () => outcome(storm.slow({ ms: 2000 })));
      // Ordinary calls in flight while the storm's deadlines expire, and after.
      const calls: Promise<string>[] = [];
      for (let i = 0; i < 60; i++) {
        calls.push(outcome(ordinary.slow({ ms: 300 })));
        await new Promise((r) => setTimeout(r, 5));
      }
      const stormed = await Promise.all(storming);
      assert.deepEqual([...new Set(stormed)], ['503 ROLE_UNAVAILABLE'], 'the premise: every storm call ran out of time');
      assert.deepEqual(
        (await Promise.all(calls)).filter((o) => o !== 'OK'),
        [],
      );
      assert.equal(front.connections(), 1, 'one connection carried both, and it was never replaced');
    } finally {
      await front.close();
    }
  });

  it('a reset connection is replaced: idempotent calls on it are tried again and answered, a write is 503, never 500', async () => {
    const front = await relay(server.port);
    const reads = remoteFacade(contract, transport(front.port, { timeoutMs: 3000 }));
    const writes = remoteFacade(writeContract, transport(front.port, { timeoutMs: 3000 }));
    try {
      await reads.get({ id: 1 });
      const inFlight = [
        ...Array.from({ length: 20 }, () => outcome(reads.slow({ ms: 300 }))),
        ...Array.from({ length: 5 }, () => outcome(writes.slow({ ms: 300 }))),
      ];
      await new Promise((r) => setTimeout(r, 100));
      front.reset();
      const answers = await Promise.all(inFlight);
      assert.deepEqual(answers.slice(0, 20), Array(20).fill('OK'));
      assert.deepEqual(answers.slice(20), Array(5).fill('503 ROLE_UNAVAILABLE'));
      assert.ok(front.connections() >= 2, 'the premise: the calls went on over a new connection');
    } finally {
      await front.close();
    }
  });

  it('malformed protobuf is INVALID_ARGUMENT naming the field; a storage failure UNAVAILABLE; error lines only for a bug', async () => {
    // A grpc-js client whose serializer sends the bytes as given.
    const raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const send = (rpc: string, bytes: number[] | Buffer) => sendRaw(raw, `/demo.v1.Demo/${rpc}`, bytes, 5000);
    const before = handled;
    lines.length = 0;
    const cases: Array<[string, string, number[] | Buffer, RegExp]> = [
      ['truncated varint', 'Get', [0x08, 0xff], /id: truncated or overlong varint/],
      ['garbage', 'Get', Buffer.alloc(11, 0xff), /truncated or overlong field tag/],
      ['a length past the end', 'Fail', [0x12, 0x10, 0x41], /code: runs past the end/],
      ['a wrong wire type', 'Get', [0x0a, 0x01, 0x41], /id: wire type 2 where a varint belongs/],
      ['a group', 'Get', [0x0b, 0x0c], /wire type 3/],
      ['NUL in a string', 'Fail', [0x12, 0x03, 0x61, 0x00, 0x62], /code: must be valid UTF-8 without NUL/],
      ['a lone surrogate (CESU bytes)', 'Fail', [0x12, 0x03, 0xed, 0xa0, 0x80], /code: must be valid UTF-8/],
      ['not UTF-8', 'Fail', [0x12, 0x02, 0xc3, 0x28], /code: must be valid UTF-8/],
    ];
    for (const [name, rpc, bytes, message] of cases) {
      const err = await send(rpc, bytes);
      assert.equal(err?.code, status.INVALID_ARGUMENT, `${name}: ${status[err?.code ?? 0]} ${err?.details}`);
      assert.match(err!.details, message, name);
      assert.equal(err!.metadata.get('cantons-error-code')[0], 'VALIDATION_ERROR');
    }
    assert.equal(handled, before, 'no handler ran');
    // Unknown fields are skipped and an unset one is its default, as the encoding rules say: a valid call.
    assert.equal(await send('Get', [0x08, 0x05, 0x78, 0x01]), null);

    const storage = await send('Fail', [0x12, 0x07, ...Buffer.from('storage')]);
    assert.deepEqual([storage?.code, storage?.metadata.get('cantons-error-code')[0]], [status.UNAVAILABLE, 'SERVICE_UNAVAILABLE']);
    assert.deepEqual(
      lines.filter((l) => l.level >= 50),
      [],
      'no error-level line for input or storage',
    );
    const bug = await send('Fail', [0x12, 0x03, ...Buffer.from('bug')]);
    assert.equal(bug?.code, status.INTERNAL);
    assert.doesNotMatch(bug!.details, /a bug of ours/);
    assert.deepEqual(
      lines.filter((l) => l.level >= 50).map((l) => l.msg),
      ['gRPC handler failed'],
    );
    raw.close();
  });

  it('a server that is not ours: bytes that do not parse or break the contract are 502, UNIMPLEMENTED 502, INTERNAL 503', async () => {
    const answers: Record<string, (cb: (err: Partial<ServiceError> | null, value?: Buffer) => void) => void> = {
      Get: (cb) => cb(null, Buffer.from([0x08, 0xff])),
      Fail: (cb) => cb({ code: status.INTERNAL, details: 'their secret' }),
    };
    const foreign = new Server();
    const id = (b: Buffer) => b;
    const rpc = (name: string) => ({
      path: `/demo.v1.Demo/${name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: id,
      requestDeserialize: id,
      responseSerialize: id,
      responseDeserialize: id,
    });
    foreign.addService(
      { Get: rpc('Get'), Fail: rpc('Fail') },
      { Get: (_: unknown, cb: any) => answers.Get(cb), Fail: (_: unknown, cb: any) => answers.Fail(cb) },
    );
    const port = await new Promise<number>((r, j) => foreign.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
    const facade = remoteFacade(writeContract, transport(port, { retries: 0 }));
    try {
      assert.equal(await outcome(facade.get({ id: 1 })), '502 ROLE_INVALID_ANSWER');
      // Valid bytes, but no `at`: the contract says every item has one.
      answers.Get = (cb) => cb(null, Buffer.from([0x08, 0x01, 0x12, 0x01, 0x78]));
      const err = await failure(facade.get({ id: 1 }));
      assert.deepEqual([err.status, err.code], [502, 'ROLE_INVALID_ANSWER']);
      assert.match(err.message, /demo\.faults answered Get outside its contract: at/);
      assert.equal(await outcome(facade.slow({ ms: 1 })), '502 ROLE_INVALID_ANSWER', 'UNIMPLEMENTED');
      const internal = await failure(facade.fail({ status: 500, code: 'x' }));
      assert.deepEqual([internal.status, internal.code], [503, 'ROLE_UNAVAILABLE']);
      assert.doesNotMatch(internal.message, /their secret|127\.0\.0\.1|\d{4,5}/);
    } finally {
      foreign.forceShutdown();
    }
  });
});
