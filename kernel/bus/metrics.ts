// Bus metrics on the kernel's prom-client registry: outbox depth and age, delivery lag, handled / failed / dead-lettered events.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface BusMetrics {
  handled: Counter<'consumer' | 'topic'>;
  duplicates: Counter<'consumer' | 'topic'>;
  failures: Counter<'consumer' | 'topic'>;
  deadLetters: Counter<'consumer' | 'topic'>;
  lag: Histogram<'consumer'>;
}

export interface OutboxSample {
  module: string;
  depth: number;
  oldestAgeSeconds: number;
}

export interface StreamSample {
  consumer: string;
  topic: string;
  /** Entries in the stream not yet handed to the consumer group. */
  lag: number;
  /** Entries handed to a group member and not yet acknowledged. */
  pending: number;
}

export interface MetricSources {
  outboxes(): Promise<OutboxSample[]>;
  streams?(): Promise<StreamSample[]>;
}

// A counter survives a second bus on the same registry (tests, re-bootstrap); gauges are replaced
// because their collect() must read the outboxes and streams of the newest bus.
function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

function sampled<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], fill: (g: Gauge<L>) => Promise<void>): void {
  registry.removeSingleMetric(name);
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      await fill(this);
    },
  });
}

// Two gauges read the same source; one scrape should query it once.
function oncePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= read().finally(() => setImmediate(() => (inFlight = undefined)));
    return inFlight;
  };
}

export function createBusMetrics(registry: Registry, sources: MetricSources): BusMetrics {
  const outboxes = oncePerScrape(sources.outboxes);
  sampled(registry, 'cantons_outbox_depth', 'Events written to a module outbox and not yet delivered by a relay', ['module'], async (g) => {
    for (const s of await outboxes()) g.set({ module: s.module }, s.depth);
  });
  sampled(registry, 'cantons_outbox_oldest_age_seconds', 'Age of the oldest undelivered outbox row (0 when empty)', ['module'], async (g) => {
    for (const s of await outboxes()) g.set({ module: s.module }, s.oldestAgeSeconds);
  });
  if (sources.streams) {
    const streams = oncePerScrape(sources.streams);
    sampled(registry, 'cantons_bus_stream_lag', 'Redis: stream entries not yet read by the consumer group', ['consumer', 'topic'], async (g) => {
      for (const s of await streams()) g.set({ consumer: s.consumer, topic: s.topic }, s.lag);
    });
    sampled(registry, 'cantons_bus_stream_pending', 'Redis: entries read by a group member and not yet acknowledged', ['consumer', 'topic'], async (g) => {
      for (const s of await streams()) g.set({ consumer: s.consumer, topic: s.topic }, s.pending);
    });
  }

  const labelNames = ['consumer', 'topic'] as const;
  return {
    handled: reuse(
      registry,
      'cantons_bus_events_handled_total',
      () =>
        new Counter({
          name: 'cantons_bus_events_handled_total',
          help: 'Events a consumer applied',
          labelNames,
          registers: [registry],
        }),
    ),
    duplicates: reuse(
      registry,
      'cantons_bus_duplicates_total',
      () =>
        new Counter({
          name: 'cantons_bus_duplicates_total',
          help: 'Redelivered events the inbox skipped',
          labelNames,
          registers: [registry],
        }),
    ),
    failures: reuse(
      registry,
      'cantons_bus_handler_failures_total',
      () =>
        new Counter({
          name: 'cantons_bus_handler_failures_total',
          help: 'Failed handler attempts (each retry counts)',
          labelNames,
          registers: [registry],
        }),
    ),
    deadLetters: reuse(
      registry,
      'cantons_bus_dead_letters_total',
      () =>
        new Counter({
          name: 'cantons_bus_dead_letters_total',
          help: 'Events dead-lettered after the last attempt',
          labelNames,
          registers: [registry],
        }),
    ),
    lag: reuse(
      registry,
      'cantons_bus_lag_seconds',
      () =>
        new Histogram({
          name: 'cantons_bus_lag_seconds',
          help: 'From the publishing transaction writing the event to a consumer applying it',
          labelNames: ['consumer'],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
          registers: [registry],
        }),
    ),
  };
}
