// Bus metrics on the kernel's prom-client registry: outbox depth, delivery lag, handled / failed / dead-lettered events.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface BusMetrics {
  handled: Counter<'consumer' | 'topic'>;
  duplicates: Counter<'consumer' | 'topic'>;
  failures: Counter<'consumer' | 'topic'>;
  deadLetters: Counter<'consumer' | 'topic'>;
  lag: Histogram<'consumer'>;
}

// A counter survives a second bus on the same registry (tests, re-bootstrap); the depth gauge is replaced
// because its collect() must read the outboxes of the newest bus.
function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createBusMetrics(registry: Registry, depth: () => Promise<Array<{ module: string; depth: number }>>): BusMetrics {
  registry.removeSingleMetric('cantons_outbox_depth');
  new Gauge({
    name: 'cantons_outbox_depth',
    help: 'Events written to a module outbox and not yet delivered by a relay',
    labelNames: ['module'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { module, depth: n } of await depth()) this.set({ module }, n);
    },
  });
  const labelNames = ['consumer', 'topic'] as const;
  return {
    handled: reuse(registry, 'cantons_bus_events_handled_total', () => new Counter({
      name: 'cantons_bus_events_handled_total', help: 'Events a consumer applied', labelNames, registers: [registry],
    })),
    duplicates: reuse(registry, 'cantons_bus_duplicates_total', () => new Counter({
      name: 'cantons_bus_duplicates_total', help: 'Redelivered events the inbox skipped', labelNames, registers: [registry],
    })),
    failures: reuse(registry, 'cantons_bus_handler_failures_total', () => new Counter({
      name: 'cantons_bus_handler_failures_total', help: 'Failed handler attempts (each retry counts)', labelNames, registers: [registry],
    })),
    deadLetters: reuse(registry, 'cantons_bus_dead_letters_total', () => new Counter({
      name: 'cantons_bus_dead_letters_total', help: 'Events dead-lettered after the last attempt', labelNames, registers: [registry],
    })),
    lag: reuse(registry, 'cantons_bus_lag_seconds', () => new Histogram({
      name: 'cantons_bus_lag_seconds',
      help: 'From the publishing transaction writing the event to a consumer applying it',
      labelNames: ['consumer'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    })),
  };
}
