// Prometheus metrics per rpc, on the kernel's registry: calls by status code and latency, server side and client
// side, as plain tallies read at scrape time (kernel/tallies.ts: why, and the exposition they keep).
import type { Registry } from 'prom-client';
import { registerTallies, Tally } from '../tallies.ts';

export type RpcObserver = (service: string, method: string, code: string, startedMs: number) => void;

/** One rpc's tallies: `observe(code, startedMs)` adds to its series, found once (per server handler, per client method). */
export interface RpcTally {
  observe(code: string, startedMs: number): void;
}

/** The two metrics of one side, `cantons_grpc_<side>_calls_total` and `cantons_grpc_<side>_duration_seconds`. */
class RpcMetrics {
  readonly series = new Map<string, Tally>();

  constructor(registry: Registry, side: 'server' | 'client') {
    registerTallies(
      registry,
      {
        counter: {
          name: `cantons_grpc_${side}_calls_total`,
          help: `gRPC calls ${side === 'server' ? 'answered' : 'made'}, by service, method and status code`,
        },
        histogram: {
          name: `cantons_grpc_${side}_duration_seconds`,
          help: `gRPC call latency ${side === 'server' ? 'in the handler' : 'seen by the caller'}, by service and method`,
        },
        outcomeLabel: 'code',
        labelNames: ['service', 'method'],
        series: () => this.series.values(),
      },
      this,
    );
  }

  tally(service: string, method: string): RpcTally {
    const key = `${service}/${method}`;
    let t = this.series.get(key);
    if (!t) this.series.set(key, (t = new Tally({ service, method })));
    const series = t;
    return { observe: (code, startedMs) => series.observe(code, (performance.now() - startedMs) / 1000) };
  }
}

/** `side` 'server': rpcs this process answered; 'client': rpcs it made (one per attempt). A second server or client on the same registry shares the metrics. */
export function rpcTallies(registry: Registry, side: 'server' | 'client'): (service: string, method: string) => RpcTally {
  const existing = registry.getSingleMetric(`cantons_grpc_${side}_calls_total`) as unknown as { owner?: RpcMetrics } | undefined;
  const m = existing?.owner ?? new RpcMetrics(registry, side);
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
