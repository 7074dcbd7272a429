// The local copy of an etcd prefix, kept current the way Kubernetes informers do: list, then watch from the list's revision.
import type { Etcd3, IKeyValue, IWatchResponse, Range } from 'etcd3';
import { etcd3 } from './etcd3.ts';
import { dropWatchStream } from './etcd-client.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { backoffDelay, sleep, Waker } from '../../../kernel/backoff.ts';
import { traced } from '../../../kernel/tracing/traced.ts';

/** A value (json) or a tombstone (json undefined), with the revision that produced it. */
interface Slot {
  json: string | undefined;
  revision: number;
}

export interface InformerOptions {
  client: Etcd3;
  /** The etcd key prefix to mirror; local keys are the etcd keys without it. */
  prefix: string;
  log: Logger;
  /** Relist backoff bounds, and how often a live watch is checked (default 1 s). */
  resync: { baseMs: number; maxMs: number; checkMs?: number };
  /** Longest a watch check, or a watch's creation, may take before the link counts as down (default 2 s: the client's deadline). */
  checkTimeoutMs?: number;
  /** Keys in the first range request of a list (default 1,000); later pages are sized by `pageBytes`. */
  pageSize?: number;
  /** Bytes a list page aims at (default 4 MiB): each page's key count is the last page's, scaled to it. */
  pageBytes?: number;
}

/** A list page grows at most this many times over the previous one: a sudden run of large values stays bounded. */
const PAGE_GROWTH = 4;
/** What a key-value costs in a range response beyond its key and value bytes (revisions, version, framing). */
const KV_OVERHEAD_BYTES = 24;

/**
 * The next list page's key count: the last page's, scaled so its bytes come near `targetBytes`, growing at
 * most PAGE_GROWTH times and never below one key. etcd counts every key from a page's start to the range's
 * end on each request (RangeResponse.count; etcd 3.4 and 3.5 alike), so a fixed page of 500 made a list of N
 * keys count N²/1000 keys: 7.7 s for 100k. Pages of about 4 MiB count each small key 2–3 times at 100k keys and
 * about 10 times at a million (a key counted costs etcd ≈ 0.2 µs; one listed ≈ 5 µs end to end).
 */
export function nextPageSize(limit: number, keys: number, bytes: number, targetBytes: number): number {
  if (keys < limit || bytes <= 0) return Math.max(1, limit);
  return Math.max(1, Math.min(limit * PAGE_GROWTH, Math.floor((limit * targetBytes) / bytes)));
}

export type InformerState = 'starting' | 'live' | 'broken' | 'closed';

export class Informer {
  private slots = new Map<string, Slot>();
  // Tombstones in the order they were made, dropped once the watch has passed their revision.
  private tombstones: Array<[string, number]> = [];
  private live = 0;
  private listed = false;
  // Ends the current watch with a reason (close() says 'closed'); the relist backoff sleeps on `waker`.
  private endWatch: ((reason: string) => void) | undefined;
  private readonly waker = new Waker();
  private loop: Promise<void> | undefined;
  private readonly prefixBytes: Buffer;
  private readonly range: Range;

  state: InformerState = 'starting';
  /** Revision up to which the watch (or the list) has delivered every change. */
  syncedRevision = 0;
  /** How many revisions the latest watch response was behind the store. */
  watchLag = 0;
  resyncs = 0;
  lastError: string | undefined;

  constructor(private readonly opts: InformerOptions) {
    this.prefixBytes = Buffer.from(opts.prefix, 'utf8');
    this.range = etcd3.Range.prefix(this.prefixBytes);
  }

  /** Starts the list-and-watch loop in the background; `ready()` turns true after the first list. */
  start(): void {
    this.loop ??= this.run();
  }

  ready(): boolean {
    return this.listed;
  }

  /** The copy may be behind etcd: the watch is not connected (or never was). */
  stale(): boolean {
    return this.state !== 'live';
  }

  get size(): number {
    return this.live;
  }

  get(key: string): { json: string; revision: number } | undefined {
    const slot = this.slots.get(key);
    return slot?.json === undefined ? undefined : { json: slot.json, revision: slot.revision };
  }

  /** Live keys (no tombstones), unordered. */
  keys(): string[] {
    const out: string[] = [];
    for (const [key, slot] of this.slots) if (slot.json !== undefined) out.push(key);
    return out;
  }

  /**
   * Records what a write or a linearizable read learned: `json` at `revision` (undefined: absent).
   * Applied only when newer than what is held, so a late watch event never undoes it.
   */
  observe(key: string, json: string | undefined, revision: number): boolean {
    // The copy already reflects every change up to syncedRevision; an older observation (a write's
    // response that lost the race with the watch) could only resurrect a value deleted since.
    if (revision <= this.syncedRevision) return false;
    const held = this.slots.get(key);
    if (held && held.revision >= revision) return false;
    if (held?.json !== undefined) this.live--;
    if (json !== undefined) this.live++;
    else this.tombstones.push([key, revision]);
    this.slots.set(key, { json, revision });
    return true;
  }

  /**
   * Something else learned that etcd is out of reach (a write or a linearizable read failed): stop
   * trusting the watch at once — reads are stale from now on — and relist once etcd answers again.
   * A silently dead link (no FIN, no RST) would otherwise look live until a check or gRPC keepalive
   * noticed, while the instance's own writes already failed.
   */
  markStale(reason: string): void {
    if (this.isClosed()) return;
    this.lastError = reason;
    if (this.state === 'live') this.state = 'broken';
    this.endWatch?.(reason);
  }

  private get timeoutMs(): number {
    return this.opts.checkTimeoutMs ?? 2000;
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  async close(): Promise<void> {
    if (this.isClosed()) return;
    this.state = 'closed';
    this.endWatch?.('closed');
    this.waker.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.isClosed()) {
      let reason: string;
      try {
        reason = await this.listAndWatch(() => {
          attempt = 0;
        });
      } catch (err) {
        reason = `list failed: ${(err as Error).message}`;
      }
      if (this.isClosed()) break;
      this.lastError = reason;
      this.state = 'broken';
      this.resyncs++;
      // Full jitter: many instances that lost etcd together must not come back in lockstep.
      const delay = backoffDelay(attempt++, this.opts.resync.baseMs, this.opts.resync.maxMs);
      this.opts.log.warn({ reason, delayMs: Math.round(delay), attempt }, 'cache: watch lost; relisting');
      await this.waker.sleep(delay);
    }
  }

  /** One list + watch cycle; resolves with the reason the watch ended. */
  private async listAndWatch(onConnected: () => void): Promise<string> {
    // One span per (re)list, a trace of its own; the watch's events and checks are not traced (one a second, or per write).
    const { slots, revision } = await traced('etcd resync', 'client', () => this.list(), { 'db.system.name': 'etcd', 'cantons.cache.resyncs': this.resyncs });
    if (this.isClosed()) return 'closed';
    this.swap(slots, revision);

    let over = false;
    let finish!: (reason: string) => void;
    const ended = new Promise<string>((resolve) => {
      finish = resolve;
    });
    // The first reason wins; a late event of this watch leaves the next cycle's alone.
    const end = (reason: string) => {
      if (over) return;
      over = true;
      if (this.state === 'live') this.state = 'broken';
      finish(reason);
    };
    this.endWatch = end;
    const watcher = this.opts.client
      .watch()
      .inRange(this.range)
      .startRevision(String(revision + 1))
      .watcher();
    let cancelled = false;
    // etcd refused the watch, or did not create it in time: the client's watch stream is not to be reused.
    let refused = false;
    const timeoutMs = this.timeoutMs;
    const creating = setTimeout(() => {
      refused = true;
      end(`watch not created within ${timeoutMs} ms`);
    }, timeoutMs);
    watcher
      .on('connected', () => {
        clearTimeout(creating);
        if (over) return; // the client resumed a watch this cycle has given up on
        if (this.state !== 'closed') this.state = 'live';
        onConnected();
      })
      .on('data', (res) => this.apply(res))
      // The client would resume on its own after 'disconnected', but from a revision it derives
      // from response headers; a fresh list is simpler to trust.
      .on('disconnected', (err) => end(`watch disconnected: ${err.message}`))
      // Compaction past our revision, revoked permissions, an expired token: etcd cancelled the watch and the client dropped it.
      .on('error', (err) => {
        cancelled = true;
        refused = true;
        end(`watch cancelled: ${err.message}`);
      })
      .on('end', () => {
        cancelled = true;
        end('watch ended');
      });
    const checker = setInterval(() => void this.checkWatch(end), this.opts.resync.checkMs ?? 1000);
    const reason = await ended;
    clearInterval(checker);
    clearTimeout(creating);
    this.endWatch = undefined;
    if (refused) dropWatchStream(this.opts.client);
    if (!cancelled) await Promise.race([watcher.cancel().catch(() => {}), sleep(1000)]);
    return reason;
  }

  // The newest mod_revision etcd held under the prefix at the previous check, not yet delivered by the watch,
  // and the store revision that check read at.
  private owed: { revision: number; at: number } | undefined;
  // A store revision at which a sorted check found nothing owed: up to it, the watch has missed nothing under the prefix.
  private verifiedRevision = 0;
  private checking = false;

  /**
   * A watch can stop delivering and still look connected (a stalled stream, a half-open connection).
   * When the watch has not delivered, by the next check, the newest revision etcd held under the prefix
   * at this one — or one check cannot reach etcd within `checkTimeoutMs` — the watch is ended (stale at
   * once) and the loop relists. It is the instance's keepalive: a check missed is a link not to be
   * trusted. A healthy watch delivers within milliseconds, far inside one interval. Deletes alone leave
   * no newer revision behind and are not detected this way.
   *
   * Each check first reads etcd's store revision R (a count of one key: O(1), linearizable). The newest
   * revision under the prefix is at most R, and it is what it was at revision V for as long as R ≤ V. So
   * when R is at most the revision the watch (or the list) has delivered through, or at most the store
   * revision of an earlier sorted check that found nothing owed (or whose owed revision has since been
   * delivered), the sorted read could only answer "nothing owed": it is skipped. Otherwise — a write
   * anywhere in etcd since, this prefix or another — the newest revision under the prefix is read
   * sorted (etcd sorts the whole prefix for it), as before. Both marks belong to one list + watch: a
   * relist resets them.
   */
  private async checkWatch(end: (reason: string) => void): Promise<void> {
    if (this.state !== 'live' || this.checking) return;
    this.checking = true;
    const timeoutMs = this.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    // Our own bound, one for the whole check: the client retries a failed call once, which would double the wait.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      if (this.owed !== undefined) {
        if (this.syncedRevision < this.owed.revision) {
          end(`watch stalled: etcd held revision ${this.owed.revision} under the prefix, the watch delivered up to ${this.syncedRevision}`);
          return;
        }
        this.verifiedRevision = Math.max(this.verifiedRevision, this.owed.at);
        this.owed = undefined;
      }
      let newest: number;
      let at: number;
      try {
        const probe = await Promise.race([this.opts.client.kv.range({ key: this.range.start, count_only: true }), deadline]);
        const store = Number(probe.header.revision);
        if (store <= Math.max(this.syncedRevision, this.verifiedRevision)) return;
        const res = await Promise.race([
          this.opts.client.kv.range({
            key: this.range.start,
            range_end: this.range.end,
            limit: 1,
            keys_only: true,
            sort_target: 'Mod',
            sort_order: 'Descend',
          }),
          deadline,
        ]);
        newest = Number(res.kvs[0]?.mod_revision ?? 0);
        at = Number(res.header.revision);
      } catch (err) {
        this.lastError = `watch check failed: ${(err as Error).message}`;
        end(`watch unverifiable: ${this.lastError}`);
        return;
      }
      if (newest > this.syncedRevision) this.owed = { revision: newest, at };
      else this.verifiedRevision = Math.max(this.verifiedRevision, at);
    } finally {
      clearTimeout(timer);
      this.checking = false;
    }
  }

  /**
   * Reads the whole prefix page by page at one revision (the first page's). A page's size follows the bytes
   * of the one before (see nextPageSize): values are a few bytes or up to a MiB, and both must list fast
   * without one response holding hundreds of MiB.
   */
  private async list(): Promise<{ slots: Map<string, Slot>; revision: number }> {
    const slots = new Map<string, Slot>();
    const targetBytes = this.opts.pageBytes ?? 4 * 1024 * 1024;
    let limit = this.opts.pageSize ?? 1000;
    let from = this.range.start;
    let revision = 0;
    for (;;) {
      const res = await this.opts.client.kv.range({ key: from, range_end: this.range.end, limit, revision });
      if (revision === 0) revision = Number(res.header.revision);
      let bytes = 0;
      for (const kv of res.kvs) {
        bytes += kv.key.length + kv.value.length + KV_OVERHEAD_BYTES;
        slots.set(this.localKey(kv), { json: kv.value.toString('utf8'), revision: Number(kv.mod_revision) });
      }
      if (!res.more || res.kvs.length === 0) break;
      from = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
      limit = nextPageSize(limit, res.kvs.length, bytes, targetBytes);
    }
    return { slots, revision };
  }

  /** Replaces the copy with a list result, keeping local writes and reads newer than the list. */
  private swap(listed: Map<string, Slot>, revision: number): void {
    for (const [key, slot] of this.slots) {
      if (slot.revision > revision) listed.set(key, slot);
    }
    this.slots = listed;
    this.tombstones = [];
    this.live = 0;
    for (const [key, slot] of listed) {
      if (slot.json === undefined) this.tombstones.push([key, slot.revision]);
      else this.live++;
    }
    this.syncedRevision = revision;
    this.owed = undefined;
    this.verifiedRevision = 0;
    this.listed = true;
  }

  private apply(res: IWatchResponse): void {
    const head = Number(res.header.revision);
    if (res.events.length === 0) {
      // A progress notification: the watch has delivered everything up to `head`.
      if (!res.created && !res.canceled) {
        this.watchLag = 0;
        this.advance(head);
      }
      return;
    }
    let last = 0;
    for (const ev of res.events) {
      const revision = Number(ev.kv.mod_revision);
      const key = this.localKey(ev.kv);
      this.observe(key, ev.type === 'Put' ? ev.kv.value.toString('utf8') : undefined, revision);
      if (revision > last) last = revision;
    }
    this.watchLag = Math.max(0, head - last);
    this.advance(last);
  }

  private advance(revision: number): void {
    if (revision > this.syncedRevision) this.syncedRevision = revision;
    // Any later event for a key is newer than a tombstone at or below this revision.
    while (this.tombstones.length > 0 && this.tombstones[0][1] <= this.syncedRevision) {
      const [key, rev] = this.tombstones.shift()!;
      const slot = this.slots.get(key);
      if (slot && slot.json === undefined && slot.revision === rev) this.slots.delete(key);
    }
  }

  private localKey(kv: IKeyValue): string {
    return kv.key.subarray(this.prefixBytes.length).toString('utf8');
  }
}
