// The event bus: createBus wires outboxes, relays, consumers and dead letters over the in-process or Redis Streams adapter.
import type { ModuleDatabase } from '../../db/database.ts';
import type { Adapter } from './adapter.ts';
import { randomUUID } from 'node:crypto';
import { Consumer, pruneInbox, writeDeadLetter, type Subscription } from './consumer.ts';
import { discardDeadLetter, listDeadLetters, replayDeadLetters } from './dead-letters.ts';
import { inProcessAdapter } from './in-process.ts';
import { createBusMetrics } from './metrics.ts';
import { outboxStats, writeOutbox } from './outbox.ts';
import { redisStreamsAdapter } from './redis-streams.ts';
import { checkRoleName } from '../names.ts';
import { Relay } from './relay.ts';
import { busStats } from './stats.ts';
import { asBusTables } from './tables.ts';
import { traced } from '../tracing/index.ts';
import type { Bus, BusOptions, Publisher } from './types.ts';

export { busMigrations } from './migrations.ts';
export { formatDeadLetters } from './dead-letters.ts';
export type { Bus, BusEvent, BusOptions, BusStats, DeadLetter, EventHandler, Publisher } from './types.ts';

/**
 * Short, because a relay that dies (kill -9) holds its rows until the lease ends: the restarted process
 * delivers them within this time. A live relay renews the lease of a batch it is still delivering, so a
 * short lease never lets a second relay take rows that are in flight (unless this one stalls for 2/3 of it).
 */
const DEFAULT_LEASE_MS = 1500;

export function createBus(opts: BusOptions): Bus {
  const log = opts.log.child({ component: 'bus' });
  const relays = new Map<string, Relay>();
  const subs: Subscription[] = [];
  const metrics = createBusMetrics(opts.metrics, {
    async outboxes() {
      const samples = await Promise.all(
        // A database that cannot answer right now is left out of this scrape rather than failing /metrics.
        [...relays.values()].map((r) =>
          outboxStats(r.mdb).then(
            (s) => ({ module: r.module, ...s }),
            () => undefined,
          ),
        ),
      );
      return samples.filter((s) => s !== undefined);
    },
    streams: opts.url ? () => adapter.streamStats?.() ?? Promise.resolve([]) : undefined,
  });
  const consumer = new Consumer({ log, metrics, maxAttempts: opts.maxAttempts, retryBaseMs: opts.retryBaseMs });
  const batchSize = opts.batchSize ?? 100;
  const adapter: Adapter = opts.url
    ? redisStreamsAdapter(consumer, {
        url: opts.url,
        prefix: opts.streamPrefix ?? 'cantons',
        claimIdleMs: opts.claimIdleMs ?? 30_000,
        maxLen: opts.streamMaxLen ?? 100_000,
        batchSize,
        log,
        ephemeralRedis: opts.ephemeralRedis ?? 'warn',
      })
    : inProcessAdapter(consumer, log);
  const relayOpts = { pollMs: opts.pollMs ?? 200, leaseMs: opts.leaseMs ?? DEFAULT_LEASE_MS, batchSize, log };
  let started = false;
  let pruner: NodeJS.Timeout | undefined;
  const retentionMs = opts.inboxRetentionMs ?? 7 * 24 * 3600_000;
  async function prune() {
    for (const mdb of new Set(subs.map((s) => s.mdb))) {
      try {
        const deleted = await pruneInbox(mdb, retentionMs);
        if (deleted) log.debug({ deleted }, 'old inbox entries pruned');
      } catch (err) {
        log.warn({ err }, 'inbox pruning failed');
      }
    }
  }

  return {
    publisher(module: string, mdb: ModuleDatabase): Publisher {
      let relay = relays.get(module);
      if (!relay) {
        relays.set(module, (relay = new Relay(module, mdb, adapter.sink, relayOpts)));
        if (started) relay.start();
      }
      const r = relay;
      return {
        publish(trx, topic, payload) {
          // The row keeps this span's context: the event's consumers, wherever they run, continue its trace.
          return traced(`publish ${topic.name}`, 'producer', async () => {
            const id = await writeOutbox(asBusTables(trx), module, topic.name, payload);
            r.nudge();
            return id;
          });
        },
        async deadLetter(trx, dead) {
          const topic = dead.topic.name;
          const event = { id: randomUUID(), topic, payload: dead.payload, createdAt: new Date().toISOString(), source: module };
          await writeDeadLetter(asBusTables(trx), dead, event, dead.error, dead.attempts);
          metrics.deadLetters.inc({ consumer: dead.consumer, topic });
          log.error({ eventId: event.id, topic, consumer: dead.consumer, attempts: dead.attempts }, 'work after commit gave up; dead-lettered');
        },
      };
    },

    subscribe(consumerName, mdb, topic, handler) {
      checkRoleName('a bus consumer', consumerName);
      if (subs.some((s) => s.consumer === consumerName && s.topic === topic)) {
        throw new Error(`${consumerName} already subscribes to ${topic}`);
      }
      const sub: Subscription = { consumer: consumerName, topic, mdb, handler };
      subs.push(sub);
      adapter.subscribe(sub);
    },

    async start() {
      if (started) return;
      started = true;
      await adapter.start();
      for (const relay of relays.values()) relay.start();
      pruner = setInterval(prune, Math.min(3600_000, retentionMs)).unref();
      log.info({ adapter: opts.url ? 'redis-streams' : 'in-process', outboxes: relays.size, subscriptions: subs.length }, 'event bus started');
    },

    async stop() {
      if (!started) {
        await adapter.stop();
        return;
      }
      started = false;
      clearInterval(pruner);
      const timeoutMs = opts.flushTimeoutMs ?? 5000;
      // Relays first, so whatever is still in an outbox reaches its consumers (or the stream) before they stop.
      await Promise.all([...relays.values()].map((r) => r.stop(timeoutMs)));
      await adapter.stop();
      log.info('event bus stopped');
    },

    ready: () => adapter.ready(),
    deadLetters: () => listDeadLetters(subs),
    replay: (id?: string) => replayDeadLetters(subs, log, id),
    discard: (id: string) => discardDeadLetter(subs, log, id),
    stats: () =>
      busStats({
        adapter: opts.url ? 'redis-streams' : 'in-process',
        outboxes: [...relays.values()].map((r) => ({ module: r.module, mdb: r.mdb })),
        subs,
        metrics,
        streams: opts.url ? () => adapter.streamStats?.() ?? Promise.resolve([]) : undefined,
      }),
  };
}
