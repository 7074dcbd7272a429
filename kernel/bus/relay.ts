// The outbox relay of one module: claims committed rows, hands them to the adapter, deletes what was delivered.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ModuleDatabase } from '../../db/database.ts';
import { backoffDelay, Waker } from '../backoff.ts';
import { traced } from '../tracing/index.ts';
import { claimBatch, deleteRows, leaseFor, toEvent } from './outbox.ts';
import type { BusEvent } from './types.ts';

/** Delivers a batch (in outbox order); returns the ids whose rows may now be deleted. */
export type Sink = (events: BusEvent[]) => Promise<string[]>;

export interface RelayOptions {
  pollMs: number;
  leaseMs: number;
  batchSize: number;
  log: Logger;
}

// After a nudge the publishing transaction may not have committed yet (Postgres: another connection),
// so the relay looks again a few times quickly before falling back to pollMs.
const FAST_WINDOW_MS = 100;
const FAST_POLL_MS = 5;

export class Relay {
  readonly owner = randomUUID();
  private loop?: Promise<void>;
  private stopping = false;
  private halted = false;
  private readonly waker = new Waker();
  private nudgedAt = 0;
  private failures = 0;
  private empty = false;

  constructor(
    readonly module: string,
    readonly mdb: ModuleDatabase,
    private readonly sink: Sink,
    private readonly opts: RelayOptions,
  ) {}

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.halted = false;
    this.loop = this.run();
  }

  /**
   * True once a round found the outbox empty, after the last event written to it had time to commit (the fast
   * window): an event delivered without the outbox (kernel/bus/index.ts) then overtakes none in it.
   */
  get clear(): boolean {
    return this.empty;
  }

  nudge(): void {
    this.empty = false;
    this.nudgedAt = Date.now();
    this.waker.wake();
  }

  /** Keeps relaying until the outbox is empty (or `timeoutMs` passed), then stops. Returns false on timeout. */
  async stop(timeoutMs: number): Promise<boolean> {
    if (!this.loop) return true;
    this.stopping = true;
    this.waker.wake();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const flushed = await Promise.race([this.loop.then(() => true), timedOut]);
    clearTimeout(timer);
    if (!flushed) {
      this.halted = true;
      this.opts.log.warn({ module: this.module, timeoutMs }, 'outbox not flushed before stop timeout; the rest is delivered after restart');
    }
    this.loop = undefined;
    return flushed;
  }

  private async run(): Promise<void> {
    while (!this.halted) {
      let moved = 0;
      try {
        moved = await this.round();
        this.failures = 0;
      } catch (err) {
        this.failures++;
        this.opts.log.error({ err, module: this.module }, 'outbox relay round failed');
        if (this.stopping && this.failures >= 3) return;
        await this.waker.sleep(Math.max(this.opts.pollMs, backoffDelay(this.failures, this.opts.pollMs, 5000)));
        continue;
      }
      if (moved > 0) continue;
      if (this.stopping) return;
      const fast = Date.now() - this.nudgedAt < FAST_WINDOW_MS;
      await this.waker.sleep(fast ? Math.min(FAST_POLL_MS, this.opts.pollMs) : this.opts.pollMs);
    }
  }

  /** One claim → deliver → delete round; returns how many rows it claimed. */
  async round(): Promise<number> {
    const startedAt = Date.now();
    const rows = await claimBatch(this.mdb, this.owner, this.opts.leaseMs, this.opts.batchSize);
    if (rows.length === 0) {
      if (startedAt - this.nudgedAt > FAST_WINDOW_MS) this.empty = true;
      return 0;
    }
    // Rows this process did not nudge about (another process's, or its own predecessor's): not clear any more.
    this.empty = false;
    let delivered: string[] = [];
    // In-process delivery runs handlers with retries; a slow batch keeps its lease so no other relay takes it meanwhile.
    // Every third of the lease: one renewal may be late or lost and the lease still holds.
    const renew = setInterval(
      () => {
        leaseFor(
          this.mdb,
          rows.map((r) => r.id),
          this.owner,
          this.opts.leaseMs,
        ).catch((err) => this.opts.log.warn({ err, module: this.module }, 'outbox lease renewal failed'));
      },
      Math.max(10, Math.floor(this.opts.leaseMs / 3)),
    );
    try {
      // One span per batch, linked to each event's publishing span (a batch has many parents).
      const events = rows.map(toEvent);
      delivered = await traced(`relay ${this.module}`, 'internal', () => this.sink(events), { links: events.map((e) => e.trace) });
    } catch (err) {
      this.opts.log.error({ err, module: this.module, events: rows.length }, 'outbox delivery failed; will retry');
    } finally {
      clearInterval(renew);
    }
    await deleteRows(this.mdb, delivered);
    const done = new Set(delivered);
    const left = rows.filter((r) => !done.has(r.id)).map((r) => r.id);
    // Not delivered (a consumer's database or Redis is down): give the rows back after a pause, not after the whole lease.
    await leaseFor(this.mdb, left, this.owner, Math.max(1000, this.opts.pollMs));
    return rows.length;
  }
}
