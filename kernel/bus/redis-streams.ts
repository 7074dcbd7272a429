// The Redis Streams adapter: relays XADD to `${prefix}:${topic}`; each consumer is a consumer group reading its topics.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { redactUrl } from '../config.ts';
import { backoffDelay, sleep } from '../http-transport.ts';
import type { Adapter } from './adapter.ts';
import type { Consumer, Subscription } from './consumer.ts';
import type { StreamSample } from './metrics.ts';
import type { BusEvent } from './types.ts';

export interface RedisStreamsOptions {
  url: string;
  prefix: string;
  claimIdleMs: number;
  maxLen: number;
  batchSize: number;
  log: Logger;
}

type Entry = [id: string, fields: string[]];
type StreamReply = [key: string, entries: Entry[]][];

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

function connect(url: string, log: Logger, extra: RedisOptions): Redis {
  const conn = new Redis(url, { ...extra });
  let last = 0;
  conn.on('error', (err) => {
    // ioredis reports every failed reconnect; one line per 5 s is enough.
    if (Date.now() - last > 5000) log.warn({ err: err.message, url: redactUrl(url) }, 'redis event bus connection error');
    last = Date.now();
  });
  return conn;
}

/** One consumer ('module.role') = one consumer group per topic stream, read by a blocking loop. */
class GroupLoop {
  private readonly topics = new Map<string, Subscription>();
  private readonly member = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private conn?: Redis;
  private loop?: Promise<void>;
  private stopping = false;
  private reading = false;
  private nextClaim = 0;
  private readonly groupsReady = new Set<string>();

  constructor(
    private readonly group: string,
    private readonly cmd: Redis,
    private readonly consumer: Consumer,
    private readonly opts: RedisStreamsOptions,
    private readonly streamKey: (topic: string) => string,
  ) {}

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  add(sub: Subscription): void {
    this.topics.set(sub.topic, sub);
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.conn = connect(this.opts.url, this.opts.log, { maxRetriesPerRequest: null });
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    // A blocked XREADGROUP would hold stop() for the whole BLOCK time; anything it was about to hand us
    // stays pending in the group and is reclaimed later.
    if (this.reading) this.conn?.disconnect();
    await this.loop;
    this.conn?.disconnect();
    this.loop = undefined;
    await this.forgetSelf();
  }

  private get blockMs() {
    return Math.max(20, Math.min(1000, Math.floor(this.opts.claimIdleMs / 2)));
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.ensureGroups();
        if (Date.now() >= this.nextClaim) {
          await this.reclaim();
          this.nextClaim = Date.now() + this.blockMs;
        }
        if (this.stopping) break;
        const keys = [...this.topics.keys()].map(this.streamKey);
        this.reading = true;
        const reply = (await this.conn!.xreadgroup(
          'GROUP', this.group, this.member, 'COUNT', this.opts.batchSize, 'BLOCK', this.blockMs,
          'STREAMS', ...keys, ...keys.map(() => '>'),
        )) as StreamReply | null;
        this.reading = false;
        if (reply) for (const [key, entries] of reply) await this.handle(key, entries);
        failures = 0;
      } catch (err) {
        this.reading = false;
        if (this.stopping) break;
        failures++;
        if (/NOGROUP/.test((err as Error).message)) this.groupsReady.clear();
        this.opts.log.error({ err: (err as Error).message, consumer: this.group }, 'redis stream consumer failed; retrying');
        await sleep(backoffDelay(failures, 100, 5000) + 50);
      }
    }
  }

  // Created at '0' so events published before this consumer ever ran are still delivered to it.
  private async ensureGroups(): Promise<void> {
    for (const topic of this.topics.keys()) {
      const key = this.streamKey(topic);
      if (this.groupsReady.has(key)) continue;
      try {
        await this.cmd.xgroup('CREATE', key, this.group, '0', 'MKSTREAM');
      } catch (err) {
        if (!/BUSYGROUP/.test((err as Error).message)) throw err;
      }
      this.groupsReady.add(key);
    }
  }

  /** Takes over entries another member of the group read but never acknowledged (it crashed) within claimIdleMs. */
  private async reclaim(): Promise<void> {
    for (const topic of this.topics.keys()) {
      const key = this.streamKey(topic);
      let cursor = '0-0';
      for (let round = 0; round < 10 && !this.stopping; round++) {
        const [next, entries] = (await this.cmd.xautoclaim(key, this.group, this.member, this.opts.claimIdleMs, cursor, 'COUNT', this.opts.batchSize)) as [string, Entry[], string[]];
        const live = entries.filter((e): e is Entry => Array.isArray(e));
        if (live.length) this.opts.log.info({ consumer: this.group, stream: key, entries: live.length }, 'reclaimed pending stream entries');
        await this.handle(key, live);
        cursor = next;
        if (cursor === '0-0') break;
      }
    }
  }

  private async handle(key: string, entries: Entry[]): Promise<void> {
    const acked: string[] = [];
    try {
      for (const [id, fields] of entries) {
        const event = parse(fields);
        const sub = event && this.topics.get(event.topic);
        if (!event || !sub) {
          this.opts.log.error({ stream: key, entryId: id, consumer: this.group }, 'unreadable stream entry acknowledged and skipped');
          acked.push(id);
          continue;
        }
        // Throws only when the consumer's database is down: the entry stays pending and is reclaimed later.
        await this.consumer.deliver(sub, event);
        acked.push(id);
      }
    } finally {
      if (acked.length) await this.cmd.xack(key, this.group, ...acked);
    }
  }

  // A clean stop leaves no member behind in the group (each process start uses a new member name).
  private async forgetSelf(): Promise<void> {
    for (const topic of this.topics.keys()) {
      const key = this.streamKey(topic);
      try {
        const pending = (await this.cmd.xpending(key, this.group, '-', '+', 1, this.member)) as unknown[];
        if (pending.length === 0) await this.cmd.xgroup('DELCONSUMER', key, this.group, this.member);
      } catch {
        // Redis gone: the member entry is harmless.
      }
    }
  }
}

function parse(fields: string[]): BusEvent | undefined {
  const i = fields.indexOf('event');
  if (i < 0 || i % 2 !== 0) return undefined;
  try {
    const e = JSON.parse(fields[i + 1]) as BusEvent;
    return typeof e?.id === 'string' && typeof e.topic === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}

function fieldMap(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
