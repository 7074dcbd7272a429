// The Redis Streams adapter: relays XADD to `${prefix}:${topic}`; each consumer is a consumer group reading its topics.
import { redactUrl } from '../config.ts';
import { sleep } from '../backoff.ts';
import type { Adapter } from './adapter.ts';
import type { Consumer } from './consumer.ts';
import type { StreamSample } from './metrics.ts';
import { GroupLoop, connect, type RedisStreamsOptions } from './redis-group.ts';
import type { BusEvent } from './types.ts';

export type { RedisStreamsOptions };

export function redisStreamsAdapter(consumer: Consumer, opts: RedisStreamsOptions): Adapter {
  const { log, prefix } = opts;
  const streamKey = (topic: string) => `${prefix}:${topic}`;
  // Commands (XADD, XACK, XAUTOCLAIM…) share one connection; each consumer blocks on a connection of its own.
  const cmd = connect(opts.url, log, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const loops = new Map<string, GroupLoop>();
  let started = false;

  return {
    async sink(events: BusEvent[]) {
      const pipe = cmd.pipeline();
      for (const e of events) pipe.xadd(streamKey(e.topic), 'MAXLEN', '~', opts.maxLen, '*', 'event', JSON.stringify(e));
      const results = (await pipe.exec()) ?? [];
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
      if (cmd.status === 'wait') await cmd.connect().catch((err) => {
        // ioredis keeps reconnecting; readiness reports it meanwhile.
        log.error({ err: (err as Error).message, url: redactUrl(opts.url) }, 'redis event bus unreachable');
      });
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
        return pong === 'PONG';
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
