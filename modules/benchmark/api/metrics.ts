// The benchmark API's metrics: callbacks by outcome, callbacks per group commit and the time one commit takes (the ingestion hot path).
import { Counter, Histogram, type Registry } from 'prom-client';

function histogram(registry: Registry, name: string, help: string, buckets: number[]): Histogram {
  return (registry.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, buckets, registers: [registry] });
}

export function callbackMetrics(registry: Registry) {
  const outcomes =
    (registry.getSingleMetric('cantons_benchmark_callbacks_total') as Counter<'outcome'> | undefined) ??
    new Counter({
      name: 'cantons_benchmark_callbacks_total',
      help: 'Callbacks by outcome: applied (a time written), duplicate (nothing new), unmatched (no benchmark has the document), or the 409 code',
      labelNames: ['outcome'],
      registers: [registry],
    });
  return {
    outcomes,
    batchSize: histogram(registry, 'cantons_benchmark_callback_batch_size', 'Callbacks per group commit', [1, 2, 5, 10, 25, 50, 100, 250, 500]),
    flushSeconds: histogram(
      registry,
      'cantons_benchmark_callback_flush_seconds',
      'Duration of one callback group commit (one transaction)',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ),
  };
}
