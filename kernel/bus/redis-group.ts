// One Redis Streams consumer ('module.role'): a consumer group per topic stream, read by a blocking loop, with reclaim.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { redactUrl } from '../config.ts';
import { backoffDelay, Waker } from '../backoff.ts';
import type { Consumer, Subscription } from './consumer.ts';
import type { BusEvent } from './types.ts';

export interface RedisStreamsOptions {
  url: string;
  prefix: string;
  claimIdleMs: number;
  maxLen: number;
  batchSize: number;
  log: Logger;
  /** A Redis without AOF: refuse (no relaying to it, start-up fails), warn (default) or accept. */
  ephemeralRedis?: 'refuse' | 'warn' | 'accept';
}

type Entry = [id: string, fields: string[]];
type StreamReply = [key: string, entries: Entry[]][];

/** ioredis, loaded by the first connection: a process on the in-process bus never pays its start-up. */
const redisClass = () => (createRequire(import.meta.url)('ioredis') as typeof import('ioredis')).Redis;

export function connect(url: string, log: Logger, extra: RedisOptions): Redis {
  const conn = new (redisClass())(url, { ...extra });
  let last = 0;
  conn.on('error', (err) => {
    // ioredis reports every failed reconnect; one line per 5 s is enough.
    if (Date.now() - last > 5000) log.warn({ err: err.message, url: redactUrl(url) }, 'redis event bus connection error');
    last = Date.now();
  });
  return conn;
}

export /** One consumer ('module.role') = one consumer group per topic stream, read by a blocking loop. */
class GroupLoop {
  private readonly topics = new Map<string, Subscription>();
  private readonly member = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private conn?: Redis;
  private loop?: Promise<void>;
  private stopping = false;
  private reading = false;
  private nextClaim = 0;
  private readonly groupsReady = new Set<string>();
  private readonly waker = new Waker();

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
    this.waker.wake();
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
          'GROUP',
          this.group,
          this.member,
          'COUNT',
          this.opts.batchSize,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          ...keys,
          ...keys.map(() => '>'),
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
        await this.waker.sleep(backoffDelay(failures, 100, 5000) + 50);
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
        const [next, entries] = (await this.cmd.xautoclaim(key, this.group, this.member, this.opts.claimIdleMs, cursor, 'COUNT', this.opts.batchSize)) as [
          string,
          Entry[],
          string[],
        ];
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
    // Consecutive entries of one subscription are applied together (Consumer.deliverMany: one transaction per run).
    let run: { sub: Subscription; events: BusEvent[]; ids: Map<BusEvent, string> } | undefined;
    const flush = async () => {
      if (!run) return;
      const { sub, events, ids } = run;
      run = undefined;
      // Throws only when the consumer's database is down: the entries not yet done stay pending and are reclaimed later.
      await this.consumer.deliverMany(sub, events, (event) => acked.push(ids.get(event)!));
    };
    try {
      for (const [id, fields] of entries) {
        const event = parse(fields);
        const sub = event && this.topics.get(event.topic);
        if (!event || !sub) {
          this.opts.log.error({ stream: key, entryId: id, consumer: this.group }, 'unreadable stream entry acknowledged and skipped');
          await flush();
          acked.push(id);
          continue;
        }
        if (run && run.sub !== sub) await flush();
        run ??= { sub, events: [], ids: new Map() };
        run.events.push(event);
        run.ids.set(event, id);
      }
      await flush();
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
