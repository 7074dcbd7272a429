// The storage role's group-commit metrics: events per commit and the time one commit takes.
import { Histogram, type Registry } from 'prom-client';

function histogram(registry: Registry, name: string, help: string, buckets: number[]): Histogram {
  // One registry per kernel; a second storage role in the same kernel (never today) reuses the metric.
  return (registry.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, buckets, registers: [registry] });
}

export function storageMetrics(registry: Registry) {
  return {
    batchSize: histogram(registry, 'cantons_events_batch_size', 'Events per group commit', [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000]),
    flushSeconds: histogram(
      registry,
      'cantons_events_flush_seconds',
      'Duration of one group commit (one transaction)',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ),
  };
}
