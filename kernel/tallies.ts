// Request metrics kept as plain numbers, turned into prom-client's exposition only when /metrics is scraped:
// one counter by outcome (an HTTP status, a gRPC code) and one latency histogram, over series of labels.
//
// Why: prom-client's labelled Counter and Histogram hash the label set and walk objects on every observation,
// which cost more than the rest of a cached GET's bookkeeping, and a few per cent of a small rpc. A series is
// found once (per route and method, per rpc) and a request only adds to it. The exposition is prom-client's:
// same types, label order (`le` first on buckets) and cumulative buckets (kernel/http/metrics.test.ts compares).
import type { Metric, Registry } from 'prom-client';

export const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One series: its labels, requests by outcome, and the latency histogram (non-cumulative counts, +Inf last). */
export class Tally {
  readonly outcomes = new Map<string | number, number>();
  readonly buckets = new Float64Array(BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(readonly labels: Record<string, string>) {}

  observe(outcome: string | number, seconds: number): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    this.buckets[i]++;
    this.sum += seconds;
    this.count++;
  }

  reset(): void {
    this.outcomes.clear();
    this.buckets.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

export interface TallyMetrics {
  counter: { name: string; help: string };
  histogram: { name: string; help: string };
  /** The counter's label for the outcome: `status`, `code`. */
  outcomeLabel: string;
  /** The series' own label names, in exposition order. */
  labelNames: string[];
  series(): Iterable<Tally>;
}

/** Registers the counter and the histogram of `m` on `registry`; `owner` is kept on both (to find them again). */
export function registerTallies(registry: Registry, m: TallyMetrics, owner?: unknown): void {
  const all = () => [...m.series()];
  const metric = (name: string, help: string, type: 'counter' | 'histogram', labelNames: string[], values: () => MetricValue[]) => ({
    name,
    help,
    type,
    aggregator: 'sum' as const,
    labelNames,
    owner,
    // What a prom-client metric's get() answers (the registry formats it, merges it, serves it as JSON).
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset: () => {
      for (const t of all()) t.reset();
    },
  });
  const counter = metric(m.counter.name, m.counter.help, 'counter', [...m.labelNames, m.outcomeLabel], () =>
    all().flatMap((t) => [...t.outcomes].map(([outcome, value]) => ({ value, labels: { ...t.labels, [m.outcomeLabel]: String(outcome) } }))),
  );
  const name = m.histogram.name;
  const histogram = metric(name, m.histogram.help, 'histogram', m.labelNames, () =>
    all()
      .filter((t) => t.count > 0)
      .flatMap((t) => {
        let acc = 0;
        const out: MetricValue[] = BUCKETS.map((le, i) => ({ value: (acc += t.buckets[i]), labels: { le, ...t.labels }, metricName: `${name}_bucket` }));
        out.push({ value: t.count, labels: { le: '+Inf', ...t.labels }, metricName: `${name}_bucket` });
        out.push({ value: t.sum, labels: t.labels, metricName: `${name}_sum` }, { value: t.count, labels: t.labels, metricName: `${name}_count` });
        return out;
      }),
  );
  registry.registerMetric(counter as unknown as Metric);
  registry.registerMetric(histogram as unknown as Metric);
}
