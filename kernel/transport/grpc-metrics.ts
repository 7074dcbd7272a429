// Prometheus metrics per rpc, on the kernel's registry: calls by status code and latency, server side and client side.
import type { Metric, MetricValue, MetricValueWithName, Registry } from 'prom-client';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export type RpcObserver = (service: string, method: string, code: string, startedMs: number) => void;

/** One rpc's tallies: `observe(code, startedMs)` is two array increments, an addition and a map hit. */
export interface RpcTally {
  observe(code: string, startedMs: number): void;
}

interface Slot {
  service: string;
  method: string;
  /** Per status code name, calls. */
  codes: Map<string, number>;
  /** Non-cumulative counts per bucket of BUCKETS, then one for +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * The two metrics of one side (`cantons_grpc_<side>_calls_total`, `cantons_grpc_<side>_duration_seconds`)
 * as plain numbers per rpc, turned into prom-client's exposition only when scraped. prom-client's
 * own labelled children validate and hash their label object on every inc/observe, which was a few
 * per cent of a small rpc's CPU; here the rpc's slot is found once (per server handler, per client
 * method) and a call only adds to it.
 */
class RpcMetrics {
  readonly slots = new Map<string, Slot>();
  readonly calls: Metric;
  readonly latency: Metric;

  constructor(readonly side: 'server' | 'client') {
    const self = this;
    const base = (name: string, help: string, type: 'counter' | 'histogram', values: () => Array<MetricValue<string> | MetricValueWithName<string>>) => ({
      name,
      help,
      type,
      aggregator: 'sum' as const,
      labelNames: type === 'counter' ? ['service', 'method', 'code'] : ['service', 'method'],
      owner: self,
      // What a prom-client metric's get() answers (the registry formats it, merges it, serves it as JSON).
      async get() {
        return { name, help, type, aggregator: 'sum', values: values() };
      },
      reset() {
        for (const s of self.slots.values()) {
          if (type === 'counter') s.codes.clear();
          else {
            s.buckets.fill(0);
            s.sum = 0;
            s.count = 0;
          }
        }
      },
    });
    const callsName = `cantons_grpc_${side}_calls_total`;
    const latencyName = `cantons_grpc_${side}_duration_seconds`;
    this.calls = base(callsName, `gRPC calls ${side === 'server' ? 'answered' : 'made'}, by service, method and status code`, 'counter', () =>
      [...this.slots.values()].flatMap((s) => [...s.codes].map(([code, value]) => ({ labels: { service: s.service, method: s.method, code }, value }))),
    ) as unknown as Metric;
    this.latency = base(
      latencyName,
      `gRPC call latency ${side === 'server' ? 'in the handler' : 'seen by the caller'}, by service and method`,
      'histogram',
      () =>
        [...this.slots.values()]
          .filter((s) => s.count > 0)
          .flatMap((s) => {
            const labels = { service: s.service, method: s.method };
            let cumulative = 0;
            return [
              ...BUCKETS.map((le, i) => ({ metricName: `${latencyName}_bucket`, labels: { ...labels, le }, value: (cumulative += s.buckets[i]) })),
              { metricName: `${latencyName}_bucket`, labels: { ...labels, le: '+Inf' }, value: s.count },
              { metricName: `${latencyName}_sum`, labels, value: s.sum },
              { metricName: `${latencyName}_count`, labels, value: s.count },
            ];
          }),
    ) as unknown as Metric;
  }

  tally(service: string, method: string): RpcTally {
    const key = `${service}/${method}`;
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { service, method, codes: new Map(), buckets: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 }));
    const s = slot;
    return {
      observe(code, startedMs) {
        const seconds = (performance.now() - startedMs) / 1000;
        s.codes.set(code, (s.codes.get(code) ?? 0) + 1);
        let i = 0;
        while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
        s.buckets[i]++;
        s.sum += seconds;
        s.count++;
      },
    };
  }
}

/** `side` 'server': rpcs this process answered; 'client': rpcs it made (one per attempt). A second server or client on the same registry shares the metrics. */
export function rpcTallies(registry: Registry, side: 'server' | 'client'): (service: string, method: string) => RpcTally {
  const existing = registry.getSingleMetric(`cantons_grpc_${side}_calls_total`) as unknown as { owner?: RpcMetrics } | undefined;
  let metrics = existing?.owner;
  if (!metrics) {
    metrics = new RpcMetrics(side);
    registry.registerMetric(metrics.calls);
    registry.registerMetric(metrics.latency);
  }
  const m = metrics;
  return (service, method) => m.tally(service, method);
}

/** The same as an observer taking the rpc on every call (a map lookup more than holding the tally). */
export function rpcMetrics(registry: Registry, side: 'server' | 'client'): RpcObserver {
  const tally = rpcTallies(registry, side);
  const tallies = new Map<string, RpcTally>();
  return (service, method, code, startedMs) => {
    const key = `${service}/${method}`;
    let t = tallies.get(key);
    if (!t) tallies.set(key, (t = tally(service, method)));
    t.observe(code, startedMs);
  };
}
