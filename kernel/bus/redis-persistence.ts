// What the bus needs of Redis: an append-only file, so a Redis restart does not lose the events the relay handed it.
//
// The relay deletes an outbox row once XADD returned: from then on Redis holds the only copy of the event
// until its consumers applied it. Without AOF a restart loses every such entry (and the consumer groups'
// positions); RDB snapshots alone lose everything since the last one. appendfsync everysec (Redis' default
// once AOF is on) loses nothing when Redis itself crashes (each write reaches the OS at once), at most a
// second when the machine does; `always` loses nothing in either case; `no` leaves it to the OS.
import type { Redis } from 'ioredis';

export interface Persistence {
  /** true: AOF on; false: off; undefined: Redis would not say (INFO refused). */
  aof: boolean | undefined;
  /** appendfsync, when CONFIG GET is allowed (managed Redis services often rename it away). */
  fsync?: string;
}

export async function redisPersistence(redis: Redis): Promise<Persistence> {
  let aof: boolean | undefined;
  try {
    const info = await redis.info('persistence');
    const m = /^aof_enabled:(\d)/m.exec(info);
    aof = m ? m[1] === '1' : undefined;
  } catch {
    aof = undefined;
  }
  let fsync: string | undefined;
  try {
    const reply = (await redis.config('GET', 'appendfsync')) as string[];
    fsync = reply?.[1];
  } catch {
    fsync = undefined;
  }
  return { aof, fsync };
}

/** One sentence for the log and the start-up error, naming the fix. */
export function describePersistence(p: Persistence, setting = 'BUS_EPHEMERAL_REDIS'): string {
  if (p.aof === undefined) {
    return `the event bus cannot tell whether its Redis persists (INFO persistence refused); a Redis without appendonly loses every event it holds when it restarts — set ${setting}=accept if it does persist`;
  }
  if (!p.aof) {
    return `the event bus's Redis runs without appendonly: a Redis restart loses every event handed to it and not yet applied (their outbox rows are gone) — run redis-server with --appendonly yes, or set ${setting}=accept to take that risk`;
  }
  return `the event bus's Redis persists (appendonly yes, appendfsync ${p.fsync ?? 'unknown'})`;
}
