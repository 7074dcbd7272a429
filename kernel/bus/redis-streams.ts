// The Redis Streams adapter: relays XADD to `${prefix}:${topic}`; each consumer is a consumer group reading its topics.
import { redactUrl } from '../config.ts';
import { sleep } from '../backoff.ts';
import { traced } from '../tracing/index.ts';
import type { Adapter } from './adapter.ts';
import type { Consumer } from './consumer.ts';
import type { StreamSample } from './metrics.ts';
import { GroupLoop, connect, type RedisStreamsOptions } from './redis-group.ts';
import { describePersistence, redisPersistence, type Persistence } from './redis-persistence.ts';
import type { BusEvent } from './types.ts';

export type { RedisStreamsOptions };

export function redisStreamsAdapter(consumer: Consumer, opts: RedisStreamsOptions): Adapter {
  const { log, prefix } = opts;
  const streamKey = (topic: string) => `${prefix}:${topic}`;
  // Commands (XADD, XACK, XAUTOCLAIM…) share one connection; each consumer blocks on a connection of its own.
  const cmd = connect(opts.url, log, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const loops = new Map<string, GroupLoop>();
  let started = false;

  // Checked on every connect: a Redis restarted with another configuration is a different Redis.
  const mode = opts.ephemeralRedis ?? 'warn';
  let persistent: boolean | undefined;
  let last: Persistence = { aof: undefined };
  let checked: Promise<void> | undefined;
  let refusedAt = 0;
  let checkedAt = 0;
  const check = () => {
    checkedAt = Date.now();
    checked = redisPersistence(cmd).then(
      (p) => {
        last = p;
        persistent = p.aof === true;
        const text = describePersistence(p);
        if (persistent) {
          if (p.fsync === 'no')
            log.warn({ appendfsync: p.fsync }, `${text}: the OS decides when the AOF reaches the disk; a machine crash may lose recent events`);
          else log.info({ appendfsync: p.fsync }, text);
        } else if (mode === 'accept') log.info({ BUS_EPHEMERAL_REDIS: mode }, text);
        else log.error({ BUS_EPHEMERAL_REDIS: mode }, mode === 'refuse' ? `${text}; nothing is relayed to it meanwhile` : text);
      },
      (err) => log.warn({ err: (err as Error).message }, 'event bus: the Redis persistence check failed'),
    );
  };
  cmd.on('ready', () => {
    persistent = undefined;
    check();
  });
  /** With 'refuse': whether events may be handed to this Redis now. */
  async function mayRelay(): Promise<boolean> {
    if (mode !== 'refuse') return true;
    // Refused: look again now and then, so appendonly switched on (CONFIG SET) is noticed without a restart.
    if (persistent === false && Date.now() - checkedAt > 5000 && cmd.status === 'ready') check();
    if (persistent !== true) await checked;
    if (persistent === true) return true;
    if (Date.now() - refusedAt > 5000) {
      refusedAt = Date.now();
      log.error('event bus: not relaying to a Redis that does not persist (BUS_EPHEMERAL_REDIS=refuse); the events wait in the outbox');
    }
    return false;
  }

  return {
    async sink(events: BusEvent[]) {
      if (!(await mayRelay())) return [];
      const pipe = cmd.pipeline();
      // Each entry carries its event's trace context (BusEvent.trace) to the consumers.
      for (const e of events) pipe.xadd(streamKey(e.topic), 'MAXLEN', '~', opts.maxLen, '*', 'event', JSON.stringify(e));
      const results = (await traced('XADD', 'client', async () => pipe.exec(), { attributes: { 'messaging.batch.message_count': events.length } })) ?? [];
      const ok: string[] = [];
      events.forEach((e, i) => {
        const err = results[i]?.[0];
        if (err) log.error({ err, eventId: e.id, topic: e.topic }, 'XADD failed; the relay retries');
        else ok.push(e.id);
      });
      return ok;
    },

    subscribe(sub) {
      let loop = loops.get(sub.consumer);
      if (!loop) loops.set(sub.consumer, (loop = new GroupLoop(sub.consumer, cmd, consumer, opts, streamKey)));
      loop.add(sub);
      if (started) void loop.start();
    },

    async start() {
      started = true;
      // ready() may already have made the lazy connection start connecting.
      if (cmd.status === 'wait')
        await cmd.connect().catch((err) => {
          // ioredis keeps reconnecting; readiness reports it meanwhile.
          log.error({ err: (err as Error).message, url: redactUrl(opts.url) }, 'redis event bus unreachable');
        });
      // Reachable now: an ephemeral Redis stops start-up here when refused (unreachable: checked once it connects).
      if (cmd.status === 'ready') await checked;
      if (mode === 'refuse' && persistent === false) {
        started = false;
        throw new Error(`${describePersistence(last)} (BUS_EPHEMERAL_REDIS=refuse)`);
      }
      for (const loop of loops.values()) void loop.start();
    },

    async stop() {
      started = false;
      await Promise.all([...loops.values()].map((l) => l.stop()));
      // QUIT waits for an answer; a connection that is not up gets none.
      if (cmd.status === 'ready') await cmd.quit().catch(() => cmd.disconnect());
      else cmd.disconnect();
    },

    async streamStats() {
      if (cmd.status !== 'ready') return [];
      const out: StreamSample[] = [];
      for (const [group, loop] of loops) {
        for (const topic of loop.topicNames()) {
          const groups = (await cmd.xinfo('GROUPS', streamKey(topic)).catch(() => [])) as unknown[][];
          for (const g of groups) {
            const info = fieldMap(g);
            if (info.name !== group) continue;
            out.push({ consumer: group, topic, lag: Number(info.lag ?? 0), pending: Number(info.pending ?? 0) });
          }
        }
      }
      return out;
    },

    async ready() {
      try {
        const pong = await Promise.race([cmd.ping(), sleep(1000).then(() => 'timeout')]);
        if (pong !== 'PONG') return false;
        return mode !== 'refuse' || (await mayRelay());
      } catch {
        return false;
      }
    },
  };
}

function fieldMap(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
