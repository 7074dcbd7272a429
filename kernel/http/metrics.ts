// Prometheus request metrics per route: count by status (499: the client hung up), latency histogram.
import type { Context } from 'koa';
import { Counter, Histogram, type Registry } from 'prom-client';

export function httpMetrics(registry: Registry) {
  const requests = new Counter({
    name: 'cantons_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'cantons_http_request_duration_seconds',
    help: 'HTTP request latency by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Labelled children cached by key: prom-client would otherwise hash the label object on every request.
  const counters = new Map<string, ReturnType<typeof requests.labels>>();
  const timers = new Map<string, ReturnType<typeof latency.labels>>();
  return (ctx: Context, started: number) => {
    // The matched pattern, never the raw path: one series per route, whatever ids clients send.
    const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
    const seconds = (performance.now() - started) / 1000;
    const key = `${ctx.method} ${route}`;
    // 499 (nginx's "client closed request"): the client hung up mid-request; not the server's failure.
    const status = ctx.state.clientClosed ? 499 : ctx.status;
    const counterKey = `${key} ${status}`;
    let counter = counters.get(counterKey);
    if (!counter) counters.set(counterKey, (counter = requests.labels(ctx.method, route, String(status))));
    let timer = timers.get(key);
    if (!timer) timers.set(key, (timer = latency.labels(ctx.method, route)));
    counter.inc();
    timer.observe(seconds);
  };
}
