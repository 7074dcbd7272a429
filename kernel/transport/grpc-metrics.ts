// Prometheus metrics per rpc, on the kernel's registry: calls by status code and latency, server side and client side.
import { Counter, Histogram, type Registry } from 'prom-client';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export type RpcObserver = (service: string, method: string, code: string, startedMs: number) => void;

// A second server or client on the same registry (tests, one of each in a process) reuses the metric.
function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** `side` 'server': rpcs this process answered; 'client': rpcs it made (one per attempt). */
export function rpcMetrics(registry: Registry, side: 'server' | 'client'): RpcObserver {
  const calls = reuse(registry, `cantons_grpc_${side}_calls_total`, () => new Counter({
    name: `cantons_grpc_${side}_calls_total`,
    help: `gRPC calls ${side === 'server' ? 'answered' : 'made'}, by service, method and status code`,
    labelNames: ['service', 'method', 'code'],
    registers: [registry],
  }));
  const latency = reuse(registry, `cantons_grpc_${side}_duration_seconds`, () => new Histogram({
    name: `cantons_grpc_${side}_duration_seconds`,
    help: `gRPC call latency ${side === 'server' ? 'in the handler' : 'seen by the caller'}, by service and method`,
    labelNames: ['service', 'method'],
    buckets: BUCKETS,
    registers: [registry],
  }));
  // Labelled children cached by key: prom-client would hash the label object on every call.
  const counters = new Map<string, ReturnType<typeof calls.labels>>();
  const timers = new Map<string, ReturnType<typeof latency.labels>>();
  return (service, method, code, startedMs) => {
    const key = `${service}/${method}`;
    let counter = counters.get(`${key} ${code}`);
    if (!counter) counters.set(`${key} ${code}`, (counter = calls.labels(service, method, code)));
    let timer = timers.get(key);
    if (!timer) timers.set(key, (timer = latency.labels(service, method)));
    counter.inc();
    timer.observe((performance.now() - startedMs) / 1000);
  };
}
