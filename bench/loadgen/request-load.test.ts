// Single-request load through autocannon against a tiny in-test server: per-step counts, statuses, checks and network errors.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { runRequests } from './request-load.ts';

let server: http.Server;
let url: string;
let hits = 0;

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hits++;
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.url === '/fail') return send(500, { error: 'UNEXPECTED_ERROR', message: 'boom' });
      send(201, { echo: body ? JSON.parse(body) : null, trace: req.headers['x-trace-id'] ?? null });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

test('every answer is counted under its step; a wrong status and a failed check are errors, each once', async () => {
  hits = 0;
  let n = 0;
  const r = await runRequests({
    url,
    connections: 4,
    durationMs: 500,
    next: (random) => {
      const i = n++;
      if (i % 10 === 9) return { step: 'fail', method: 'GET', path: '/fail', expect: 200 };
      const trace = random.uuid();
      return {
        step: i % 2 ? 'odd' : 'even',
        method: 'POST',
        path: '/items',
        body: { i },
        headers: { 'x-trace-id': trace },
        expect: 201,
        verify: (body) => ((body as { trace: string }).trace === trace && i % 10 !== 4 ? undefined : `check failed for ${i}`),
      };
    },
  });
  assert.ok(r.requests > 50, `${r.requests} requests in 0.5 s`);
  assert.ok(hits >= r.requests, 'every counted answer reached the server');
  assert.deepEqual(Object.keys(r.steps).sort(), ['even', 'fail', 'odd']);
  assert.equal(r.steps.fail.errors, r.steps.fail.requests);
  assert.equal(r.errors.status5xx, r.steps.fail.requests);
  assert.ok(r.errors.assertion > 0 && r.errors.samples[`assertion: check failed for 4`] === 1);
  assert.equal(r.errors.total, r.errors.status + r.errors.assertion);
  assert.equal(r.ok, r.requests - r.errors.status - r.errors.assertion);
  assert.equal(r.errors.network, 0);
  assert.ok(r.latency.p50 > 0 && r.latency.p50 <= r.latency.p99);
  assert.ok(r.loadgenCpuUsPerRequest !== null && r.loadgenCpuUsPerRequest > 0);
});

test('a refused connection is a network error, not a response', async () => {
  const r = await runRequests({ url: 'http://127.0.0.1:1', connections: 1, durationMs: 300, next: () => ({ step: 'x', method: 'GET', path: '/' }) });
  assert.equal(r.requests, r.errors.network);
  assert.ok(r.errors.network > 0);
  assert.equal(r.ok, 0);
});
