// The event bus: createBus wires outboxes, relays, consumers and dead letters over the in-process or Redis Streams adapter.
import type { ModuleDatabase } from '../../db/database.ts';
import type { Adapter } from './adapter.ts';
import { randomUUID } from 'node:crypto';
import { timeOrderedId } from '../../db/ids.ts';
import { applyInline, Consumer, pruneInbox, writeDeadLetter, type Subscription } from './consumer.ts';
import { discardDeadLetter, listDeadLetters, replayDeadLetters } from './dead-letters.ts';
import { inProcessAdapter } from './in-process.ts';
import { createBusMetrics } from './metrics.ts';
import { outboxStats, writeOutbox } from './outbox.ts';
import { redisStreamsAdapter } from './redis-streams.ts';
import { checkRoleName } from '../names.ts';
import { Relay } from './relay.ts';
import { busStats } from './stats.ts';
import { asBusTables } from './tables.ts';
import { carrier, traced } from '../tracing/index.ts';
import type { Kysely } from 'kysely';
import type { Bus, BusEvent, BusOptions, Publisher } from './types.ts';

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
  /**
   * Per topic, its subscriptions when an event of it may be applied in its publisher's transaction instead of going
   * through the outbox (BusOptions.inline): the in-process bus, and every subscriber in the one database `mdb`.
   */
  const inlineSubs = new Map<string, { mdb: ModuleDatabase; subs: Subscription[] } | null>();
  function inlineFor(topic: string, mdb: ModuleDatabase): Subscription[] | undefined {
    let found = inlineSubs.get(topic);
    if (found === undefined) {
      const mine = subs.filter((s) => s.topic === topic);
      found = opts.inline && !opts.url && mine.length > 0 && mine.every((s) => s.mdb === mine[0].mdb) ? { mdb: mine[0].mdb, subs: mine } : null;
      inlineSubs.set(topic, found);
    }
    return found?.mdb === mdb ? found.subs : undefined;
  }
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

  /** The event applied by `local` in the publisher's transaction (consumer.ts applyInline); false: it takes the outbox. */
  function deliverInline(local: Subscription[], id: string, module: string, topic: string, payload: unknown, trx: Kysely<unknown>): Promise<boolean> {
    // As a consumer would read it from the outbox: a copy through JSON, stamped now, in the publishing span's trace.
    const event: BusEvent = { id, topic, payload: JSON.parse(JSON.stringify(payload ?? null)), createdAt: new Date().toISOString(), source: module };
    const trace = carrier();
    if (trace) event.trace = trace;
    return traced(
      `process ${topic}`,
      'consumer',
      () =>
        applyInline(local, event, trx, {
          applied() {
            for (const s of local) {
              metrics.handled.inc({ consumer: s.consumer, topic });
              metrics.lag.observe({ consumer: s.consumer }, 0);
            }
          },
          failed(err) {
            for (const s of local) metrics.failures.inc({ consumer: s.consumer, topic });
            log.warn(
              { err, eventId: id, topic, consumers: local.map((s) => s.consumer) },
              'event handler failed in the publishing transaction; the event goes through the outbox',
            );
          },
        }),
      { attributes: { 'messaging.consumer.group.name': local.map((s) => s.consumer).join(',') } },
    );
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
            const local = started && r.clear ? inlineFor(topic.name, mdb) : undefined;
            if (local) {
              const id = timeOrderedId();
              if (await deliverInline(local, id, module, topic.name, payload, trx as Kysely<unknown>)) return id;
            }
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
      inlineSubs.delete(topic);
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
