// Prometheus request metrics per route: count by status (499: the client hung up), latency histogram.
//
// Each request adds to plain numbers kept per route and method (two Map lookups, an array index); the
// registry reads them only when /metrics is scraped. prom-client's own Counter and Histogram hash the label
// set and walk objects on every observation, which cost more than the rest of a cached GET's bookkeeping.
// The exposition is the same as theirs: same names, types, labels and label order, cumulative buckets.
import type { Context } from 'koa';
import type { Registry } from 'prom-client';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One route and method: requests by status, and the latency histogram (non-cumulative counts, +Inf last). */
interface Series {
  method: string;
  route: string;
  statuses: Map<number, number>;
  buckets: Float64Array;
  sum: number;
  count: number;
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What prom-client's Registry asks of a metric: name, help, type, aggregator, get() and reset(). */
interface CollectedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }>;
  reset(): void;
}

export function httpMetrics(registry: Registry) {
  // route → method → series: both keys are strings the request already has, so nothing is built per request.
  const byRoute = new Map<string, Map<string, Series>>();
  const all = () => [...byRoute.values()].flatMap((m) => [...m.values()]);
  const metric = (name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]): CollectedMetric => ({
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, values: values(), aggregator: 'sum' }),
    reset: () => byRoute.clear(),
  });
  const requests = metric('cantons_http_requests_total', 'HTTP requests by method, route pattern and status', 'counter', () =>
    all().flatMap((s) => [...s.statuses].map(([status, value]) => ({ value, labels: { method: s.method, route: s.route, status: String(status) } }))),
  );
  const latency = metric('cantons_http_request_duration_seconds', 'HTTP request latency by method and route pattern', 'histogram', () =>
    all().flatMap((s) => {
      const labels = { method: s.method, route: s.route };
      const name = 'cantons_http_request_duration_seconds';
      let acc = 0;
      const out: MetricValue[] = BUCKETS.map((le, i) => ({ value: (acc += s.buckets[i]), labels: { le, ...labels }, metricName: `${name}_bucket` }));
      out.push({ value: s.count, labels: { le: '+Inf', ...labels }, metricName: `${name}_bucket` });
      out.push({ value: s.sum, labels, metricName: `${name}_sum` }, { value: s.count, labels, metricName: `${name}_count` });
      return out;
    }),
  );
  registry.registerMetric(requests as never);
  registry.registerMetric(latency as never);

  return (ctx: Context, started: number) => {
    // The matched pattern, never the raw path: one series per route, whatever ids clients send.
    const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
    const seconds = (performance.now() - started) / 1000;
    const method = ctx.method;
    let methods = byRoute.get(route);
    if (!methods) byRoute.set(route, (methods = new Map()));
    let s = methods.get(method);
    if (!s) methods.set(method, (s = { method, route, statuses: new Map(), buckets: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 }));
    // 499 (nginx's "client closed request"): the client hung up mid-request; not the server's failure.
    const status = ctx.state.clientClosed ? 499 : ctx.status;
    s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    s.buckets[i]++;
    s.sum += seconds;
    s.count++;
  };
}
