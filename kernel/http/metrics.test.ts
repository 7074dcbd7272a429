// Per-route request metrics read at scrape time: the same exposition prom-client's Counter and Histogram give.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from 'koa';
import { Counter, Histogram, Registry } from 'prom-client';
import { httpMetrics } from './metrics.ts';

const ctx = (method: string, route: string | undefined, status: number, clientClosed = false) =>
  ({ method, _matchedRoute: route, status, state: { clientClosed } }) as unknown as Context;

describe('http metrics', () => {
  it('exposes what prom-client would for the same observations', async () => {
    const ours = new Registry();
    const observe = httpMetrics(ours);
    const theirs = new Registry();
    const requests = new Counter({
      name: 'cantons_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [theirs],
    });
    const latency = new Histogram({
      name: 'cantons_http_request_duration_seconds',
      help: 'HTTP request latency by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [theirs],
    });
    const seen: Array<[string, string | undefined, number, boolean, number]> = [
      ['GET', '/products/:id', 200, false, 0.0003],
      ['GET', '/products/:id', 404, false, 0.002],
      ['POST', '/products', 201, false, 0.0008],
      ['GET', '/products/:id', 200, false, 7],
      ['POST', '/products', 400, true, 0.008],
      ['GET', undefined, 404, false, 0.0004],
    ];
    for (const [method, route, status, closed, seconds] of seen) {
      observe(ctx(method, route, status, closed), performance.now() - seconds * 1000);
      requests.labels(method, route ?? 'unmatched', String(closed ? 499 : status)).inc();
      latency.labels(method, route ?? 'unmatched').observe(seconds);
    }
    // Latencies are measured from `started`, so sums differ in the last digits: compare all but the _sum lines.
    const lines = (text: string) =>
      text
        .split('\n')
        .filter((l) => !l.includes('_sum{'))
        .sort();
    assert.deepEqual(lines(await ours.metrics()), lines(await theirs.metrics()));
    const sums = (await ours.metrics()).split('\n').filter((l) => l.includes('_sum{'));
    assert.equal(sums.length, 3);
    assert.match(sums.find((l) => l.includes('route="/products/:id"'))!, / 7\.002/);
  });

  it('starts over on reset', async () => {
    const registry = new Registry();
    const observe = httpMetrics(registry);
    observe(ctx('GET', '/a', 200), performance.now());
    registry.resetMetrics();
    assert.doesNotMatch(await registry.metrics(), /route="\/a"/);
  });
});
