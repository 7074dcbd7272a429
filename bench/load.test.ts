// The load generator against a tiny in-test HTTP server: counts, labels, error kinds, limits, stopping.
import assert from 'node:assert/strict';
import http from 'node:http';
import { ConnectionPool } from './connection-pool.ts';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { createClient, runLoad } from './load.ts';

let server: http.Server;
let url: string;
let hits = 0;
const sockets = new Set<unknown>();

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hits++;
      const path = req.url ?? '/';
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (path === '/fail') return send(500, { error: 'UNEXPECTED_ERROR', message: 'boom' });
      if (path === '/conflict') return send(409, { error: 'OUT_OF_STOCK', message: 'none left' });
      if (path === '/reset') return req.socket.destroy();
      if (path.startsWith('/slow')) return setTimeout(() => send(200, { slow: true }), 1500);
      send(201, { echo: body ? JSON.parse(body) : null });
    });
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

test('a fixed iteration count issues exactly that many requests over at most N kept-alive sockets', async () => {
  hits = 0;
  sockets.clear();
  const r = await runLoad({
    url,
    connections: 8,
    iterations: 400,
    progress: false,
    step: async (vu) => {
      const res = await vu.client.post('/items', { n: vu.iteration }, { step: 'create' });
      assert.equal(res.status, 201);
      assert.deepEqual(res.body, { echo: { n: vu.iteration } });
    },
  });
  assert.equal(r.iterations, 400);
  assert.equal(r.requests, 400);
  assert.equal(r.ok, 400);
  assert.equal(hits, 400);
  assert.equal(r.errors.total, 0);
  assert.deepEqual(r.statuses, { 201: 400 });
  assert.deepEqual(Object.keys(r.steps), ['create']);
  assert.equal(r.steps.create.latency.count, 400);
  assert.ok(sockets.size <= 8, `opened ${sockets.size} sockets for 8 connections`);
  const l = r.latency;
  assert.ok(l.min > 0 && l.min <= l.p50 && l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max);
  assert.ok(l.avg >= l.min && l.avg <= l.max);
  assert.ok(r.rps > 0 && r.elapsedMs > 0);
});

test('runs given the same pool reuse its kept-alive sockets and leave them open', async () => {
  sockets.clear();
  const pool = new ConnectionPool(new URL(url), 4);
  const step = async (vu: { client: { get(p: string): Promise<unknown> } }) => {
    await vu.client.get('/ok');
  };
  try {
    const first = await runLoad({ url, pool, connections: 4, iterations: 40, progress: false, step });
    const second = await runLoad({ url, pool, connections: 4, iterations: 40, progress: false, step });
    assert.equal(first.ok + second.ok, 80);
    assert.ok(sockets.size <= 4, `opened ${sockets.size} sockets for 4 connections over two runs`);
  } finally {
    pool.destroy();
  }
});

test('unexpected statuses, 5xx, network failures and failed assertions are each counted once', async () => {
  let started = 0; // across users: which user runs how many iterations depends on timing
  const r = await runLoad({
    url,
    connections: 4,
    iterations: 40,
    progress: false,
    step: async ({ client }) => {
      switch (started++ % 4) {
        case 0:
          await client.get('/fail');
          break; // 500 throws, counted once
        case 1:
          await client.get('/reset');
          break; // socket destroyed
        case 2:
          throw new Error('body did not match');
        default:
          await client.post('/conflict', {}, { expect: [201, 409], step: 'buy' }); // expected: fine
      }
    },
  });
  assert.equal(r.iterations, 40);
  assert.equal(r.errors.status, 10);
  assert.equal(r.errors.status5xx, 10);
  assert.equal(r.errors.network, 10);
  assert.equal(r.errors.assertion, 10);
  assert.equal(r.errors.total, 30);
  assert.equal(r.requests, 30);
  assert.equal(r.ok, 10);
  assert.equal(r.steps.buy.errors, 0);
  assert.equal(r.steps['GET /fail'].errors, 10);
  assert.equal(r.errors.samples['GET /fail → 500 UNEXPECTED_ERROR'], 10);
  assert.equal(r.errors.samples['assertion: body did not match'], 10);
});

test('setup requests are not counted; a step may issue several requests', async () => {
  hits = 0;
  const r = await runLoad({
    url,
    connections: 3,
    iterations: 4,
    progress: false,
    setup: async (vu) => {
      await vu.client.post('/login', { user: vu.id });
    },
    step: async (vu) => {
      for (let i = 0; i < 3; i++) await vu.client.post(`/orders/${vu.random.int(1, 99)}`, {});
    },
  });
  assert.equal(hits, 15);
  assert.equal(r.requests, 12);
  assert.equal(r.errors.total, 0);
  assert.deepEqual(Object.keys(r.steps), ['POST /orders/:id']);
  assert.ok(r.loadgenCpuUsPerRequest !== null && r.loadgenCpuUsPerRequest > 0);
});

test('a timed run stops starting iterations when time is up', async () => {
  const r = await runLoad({
    url,
    connections: 4,
    durationMs: 300,
    progress: false,
    step: async (vu) => {
      await vu.client.get('/ok');
    },
  });
  assert.ok(r.elapsedMs >= 300);
  assert.ok(r.requests > 0);
  assert.equal(r.errors.total, 0);
  assert.equal(r.cutOff, false);
});

test("the timeline keeps each second's counts and latency percentiles, adding up to the run", async () => {
  const r = await runLoad({
    url,
    connections: 4,
    durationMs: 1300,
    progress: false,
    step: async (vu) => {
      await vu.client.get(vu.iteration % 5 ? '/ok' : '/conflict', { expect: [201, 409] });
    },
  });
  assert.equal(r.timeline.length, 2); // one tick at 1 s, then the 0.3 s tail
  const sum = (k: 'requests' | 'ok' | 'errors') => r.timeline.reduce((a, p) => a + p[k], 0);
  assert.deepEqual([sum('requests'), sum('ok'), sum('errors')], [r.requests, r.ok, r.errors.total]);
  for (const p of r.timeline) {
    assert.ok(p.rps > 0 && p.p50 > 0 && p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.max && p.max <= r.latency.max, JSON.stringify(p));
  }
  assert.ok(Math.abs(r.timeline[0].rps - r.timeline[0].requests) <= r.timeline[0].requests * 0.1); // a 1-second interval
});

test('in-flight work that outlives the grace period is cut off and not counted as errors', async () => {
  const r = await runLoad({
    url,
    connections: 2,
    durationMs: 100,
    graceMs: 100,
    progress: false,
    step: async (vu) => {
      await vu.client.get('/slow');
    },
  });
  assert.equal(r.cutOff, true);
  assert.equal(r.errors.total, 0);
});

test('progress lines go to the given stream: one line each on a pipe, \\r-rewritten on a TTY', async () => {
  const capture = (isTTY: boolean) => {
    const chunks: string[] = [];
    const stream = Object.assign(
      new Writable({
        write(c, _e, cb) {
          chunks.push(String(c));
          cb();
        },
      }),
      { isTTY },
    );
    return { stream, chunks };
  };
  const pipe = capture(false);
  await runLoad({
    name: 'piped',
    url,
    connections: 2,
    durationMs: 1100,
    progress: true,
    progressEveryMs: 1000,
    progressStream: pipe.stream,
    progressTail: () => '  part 3 of 4',
    step: async (vu) => {
      await vu.client.get('/ok');
    },
  });
  assert.ok(pipe.chunks.length >= 1);
  assert.match(pipe.chunks[0], /^\[piped\] 1\.\ds {2}\d+ req {2}\d+ rps {2}0 errors {2}part 3 of 4\n$/);
  const tty = capture(true);
  await runLoad({
    name: 'tty',
    url,
    connections: 2,
    durationMs: 200,
    progress: true,
    progressStream: tty.stream,
    step: async (vu) => {
      await vu.client.get('/ok');
    },
  });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the progress line ends with the terminal's erase-line escape
  assert.match(tty.chunks.at(-1)!, /^\r\[tty\] .* errors\x1b\[K\n$/);
});

test('the standalone client returns status and parsed body, and can be told not to throw', async () => {
  const client = createClient(url);
  const created = await client.post('/x', { a: 1 });
  assert.equal(created.status, 201);
  assert.deepEqual(created.body, { echo: { a: 1 } });
  await assert.rejects(client.get('/fail'), /GET \/fail: unexpected status 500 UNEXPECTED_ERROR/);
  const failed = await client.get('/fail', { throwOnError: false });
  assert.equal(failed.ok, false);
  assert.equal(failed.body.error, 'UNEXPECTED_ERROR');
});
