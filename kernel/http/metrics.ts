// Prometheus request metrics per route: count by status (499: the client hung up), latency histogram, as plain
// tallies read at scrape time (kernel/tallies.ts: why, and the exposition they keep).
import type { Context } from 'koa';
import type { Registry } from 'prom-client';
import { registerTallies, Tally } from '../tallies.ts';

export function httpMetrics(registry: Registry) {
  // route → method → series: both keys are strings the request already has, so nothing is built per request.
  const byRoute = new Map<string, Map<string, Tally>>();
  registerTallies(registry, {
    counter: { name: 'cantons_http_requests_total', help: 'HTTP requests by method, route pattern and status' },
    histogram: { name: 'cantons_http_request_duration_seconds', help: 'HTTP request latency by method and route pattern' },
    outcomeLabel: 'status',
    labelNames: ['method', 'route'],
    series: () => [...byRoute.values()].flatMap((m) => [...m.values()]),
  });

  return (ctx: Context, started: number) => {
    // The matched pattern, never the raw path: one series per route, whatever ids clients send.
    const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
    const method = ctx.method;
    let methods = byRoute.get(route);
    if (!methods) byRoute.set(route, (methods = new Map()));
    let t = methods.get(method);
    if (!t) methods.set(method, (t = new Tally({ method, route })));
    // 499 (nginx's "client closed request"): the client hung up mid-request; not the server's failure.
    t.observe(ctx.state.clientClosed ? 499 : ctx.status, (performance.now() - started) / 1000);
  };
}
