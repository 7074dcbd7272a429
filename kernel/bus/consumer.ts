// Applying an event for one consumer: inbox entry + handler in one transaction, retries with backoff, then a dead letter.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { ModuleDatabase } from '../../db/database.ts';
import { inSpan } from '../../db/trace-hooks.ts';
import { nestedWork, onCommit, writeTransaction } from '../../db/write-transaction.ts';
import { backoffDelay, sleep } from '../backoff.ts';
import { isDependencyFailure } from '../errors.ts';
import { carrierJson, traced } from '../tracing/index.ts';
import type { BusTables } from './tables.ts';
import type { BusMetrics } from './metrics.ts';
import type { BusEvent, EventHandler } from './types.ts';

export interface Subscription {
  /** 'module.role' */
  consumer: string;
  topic: string;
  mdb: ModuleDatabase;
  handler: EventHandler;
}

export type Outcome = 'applied' | 'duplicate' | 'dead-lettered';

export interface ConsumerOptions {
  log: Logger;
  metrics: BusMetrics;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs?: number;
}

/** The batch's transaction as a handler sees it: typed by its module's tables, which the kernel does not know. */
const moduleTrx = (trx: Transaction<BusTables>) => trx as unknown as Transaction<unknown>;

/**
 * One attempt: records (consumer, event id) in the inbox and runs the handler in the same transaction.
 * Already in the inbox → 'duplicate' and nothing else is written. `also` runs in that transaction on success.
 */
export async function applyOnce(sub: Subscription, event: BusEvent, also?: (trx: Transaction<BusTables>) => Promise<void>): Promise<'applied' | 'duplicate'> {
  const after: Array<() => void> = [];
  // A write transaction: on SQLite it shares its commit with the other writes of the moment (db/write-transaction.ts).
  const outcome = await writeTransaction(sub.mdb.db, async (conn) => {
    // The batch's connection, inside its transaction: what handlers are given as their transaction.
    const trx = conn as Transaction<BusTables>;
    // From the start each time: a batch this work shares may run again (db/write-transaction.ts).
    after.length = 0;
    const res = await trx
      .insertInto('inbox')
      .values({ consumer: sub.consumer, event_id: event.id, handled_at: new Date().toISOString() })
      .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0) === 0) return 'duplicate';
    await sub.handler(event, moduleTrx(trx), (fn) => after.push(fn));
    if (also) await also(trx);
    return 'applied';
  });
  runAfterCommit(after);
  return outcome;
}

/**
 * Applies `event` for each of `subs` inside the publisher's own write transaction `trx`, whose database is theirs:
 * the event and its effects commit together or not at all, so it needs no outbox row, no relay and no inbox entry
 * (nothing can deliver it twice). All of them run as one nested work (db/write-transaction.ts nestedWork); when a
 * handler throws, what they wrote is undone, `on.failed` hears why and this returns false, having kept nothing: the
 * caller then writes the outbox row, and the relay delivers the event with retries and a dead letter as for any
 * other. Also false, with nothing run, when `trx` is not a writeTransaction's (the handlers' afterCommit work needs
 * its commit). `on.applied` and the handlers' afterCommit work run once the commit is done.
 */
export async function applyInline(
  subs: Subscription[],
  event: BusEvent,
  trx: Kysely<unknown>,
  on: { applied(): void; failed(err: unknown): void },
): Promise<boolean> {
  const after: Array<() => void> = [on.applied];
  let applied = false;
  if (!onCommit(trx, () => applied && runAfterCommit(after))) return false;
  // A transaction nested in the publisher's: traced as the `db transaction` it is where the consumer runs apart, so
  // the trace has the same shape in every topology.
  const run = await nestedWork(trx, () =>
    inSpan('db transaction', async () => {
      for (const sub of subs) await sub.handler(event, trx as Transaction<unknown>, (fn) => after.push(fn));
    }),
  );
  if (!run.ok) {
    on.failed(run.error);
    return false;
  }
  applied = true;
  return true;
}

/** The functions handlers passed to `afterCommit`, once their transaction committed; each runs on its own. */
function runAfterCommit(fns: Array<() => void>): void {
  for (const fn of fns) queueMicrotask(fn);
}

/** Stores (or refreshes, on a redelivery) the dead letter of `event` for this consumer. */
export async function writeDeadLetter(
  db: Kysely<BusTables>,
  sub: Pick<Subscription, 'consumer'>,
  event: BusEvent,
  error: string,
  attempts: number,
): Promise<void> {
  const failedAt = new Date().toISOString();
  await db
    .insertInto('dead_letters')
    .values({
      id: randomUUID(),
      consumer: sub.consumer,
      event_id: event.id,
      topic: event.topic,
      payload: JSON.stringify(event.payload ?? null),
      created_at: event.createdAt,
      source: event.source,
      error,
      attempts,
      failed_at: failedAt,
      // The event's publishing span (or, for work after commit that gave up, the span it ran in): a replay links to it.
      trace_context: event.trace ? JSON.stringify(event.trace) : carrierJson(),
    })
    .onConflict((oc) => oc.columns(['consumer', 'event_id']).doUpdateSet({ error, attempts, failed_at: failedAt }))
    .execute();
}

/**
 * Forgets inbox entries older than `retentionMs`: redeliveries come within a relay lease or a Redis claim
 * window, so a week-old entry only costs space. Returns how many were deleted.
 */
export async function pruneInbox(mdb: ModuleDatabase, retentionMs: number): Promise<number> {
  const cutoff = new Date(Date.now() - retentionMs).toISOString();
  const res = await mdb.db.deleteFrom('inbox').where('handled_at', '<', cutoff).executeTakeFirst();
  return Number(res.numDeletedRows ?? 0);
}

export const errorText = (err: unknown) => (err instanceof Error ? (err.stack ?? err.message) : String(err)).slice(0, 4000);

/** Events applied in one consumer transaction at most (the relay's and XREADGROUP's batches are 100 by default). */
const MAX_GROUP = 500;

export class Consumer {
  constructor(private readonly opts: ConsumerOptions) {}

  /**
   * Applies `events` (all of one subscription) in order, calling `done` for each once it is applied,
   * a duplicate or dead-lettered. Runs of events share ONE transaction — each event in a savepoint of
   * its own, with its inbox entry — so a burst costs one commit (one fsync on SQLite) per batch instead
   * of one per event: a consumer that commits per event falls behind the orders that publish them.
   * The first event whose handler throws is rolled back to its savepoint, the run before it commits,
   * and that event goes the one-at-a-time way (`deliver`: retries, then a dead letter) before the next
   * run starts, so the order is kept. Throws (after `done` for everything before) only when a backing
   * service is down, as `deliver` does.
   */
  async deliverMany(sub: Subscription, events: BusEvent[], done: (event: BusEvent, outcome: Outcome) => void): Promise<void> {
    const { metrics } = this.opts;
    const labels = { consumer: sub.consumer, topic: sub.topic };
    let next = 0;
    while (next < events.length) {
      if (events.length - next === 1) {
        done(events[next], await this.deliver(sub, events[next]));
        return;
      }
      const run = events.slice(next, next + MAX_GROUP);
      const outcomes: Outcome[] = [];
      const after: Array<() => void> = [];
      let failedAt = -1;
      let failure: unknown;
      try {
        // Applied together: one span linked to each event's publishing span (OpenTelemetry's batch consumer).
        // The work handlers left for after the commit runs inside the span too: its calls out are children of it.
        await traced(
          `process ${sub.topic}`,
          'consumer',
          async () => {
            await writeTransaction(sub.mdb.db, async (conn) => {
              const trx = conn as Transaction<BusTables>;
              // From the start each time: a batch this work shares may run again (db/write-transaction.ts).
              outcomes.length = 0;
              after.length = 0;
              failedAt = -1;
              for (let i = 0; i < run.length; i++) {
                const event = run[i];
                await sql`savepoint bus_event`.execute(trx);
                try {
                  const res = await trx
                    .insertInto('inbox')
                    .values({ consumer: sub.consumer, event_id: event.id, handled_at: new Date().toISOString() })
                    .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
                    .executeTakeFirst();
                  const mine: Array<() => void> = [];
                  if (Number(res.numInsertedOrUpdatedRows ?? 0) === 0) outcomes.push('duplicate');
                  else {
                    await sub.handler(event, moduleTrx(trx), (fn) => mine.push(fn));
                    outcomes.push('applied');
                  }
                  await sql`release savepoint bus_event`.execute(trx);
                  after.push(...mine);
                } catch (err) {
                  await sql`rollback to savepoint bus_event`.execute(trx);
                  await sql`release savepoint bus_event`.execute(trx);
                  failedAt = i;
                  failure = err;
                  return;
                }
              }
            });
            runAfterCommit(after);
          },
          { links: run.map((e) => e.trace), attributes: { 'messaging.consumer.group.name': sub.consumer, 'messaging.batch.message_count': run.length } },
        );
      } catch (err) {
        // The transaction itself failed (the database is down, the commit refused): one at a time decides.
        this.opts.log.warn({ err, consumer: sub.consumer, events: run.length }, 'batched apply failed; applying one at a time');
        for (const event of run) done(event, await this.deliver(sub, event));
        next += run.length;
        continue;
      }
      const now = Date.now();
      for (let i = 0; i < outcomes.length; i++) {
        if (outcomes[i] === 'duplicate') metrics.duplicates.inc(labels);
        else {
          metrics.handled.inc(labels);
          metrics.lag.observe({ consumer: sub.consumer }, Math.max(0, now - Date.parse(run[i].createdAt)) / 1000);
        }
        done(run[i], outcomes[i]);
      }
      next += outcomes.length;
      if (failedAt >= 0) {
        done(run[failedAt], await this.deliver(sub, run[failedAt], { error: failure }));
        next += 1;
      }
    }
  }

  /**
   * Applies `event` or dead-letters it. Throws when the last attempt failed because a backing service did
   * (the consumer's database or Redis is down), or when even the dead letter cannot be written: the caller
   * then keeps the event and delivers it again later. A dead letter waits for an operator, and a database
   * that blinked for two seconds (a failover) is not a reason to make an acknowledged write wait for one.
   */
  deliver(sub: Subscription, event: BusEvent, firstAttempt?: { error: unknown }): Promise<Outcome> {
    // A child of the publishing span, in whatever process published it: one request reads as one trace.
    return traced(`process ${event.topic}`, 'consumer', () => this.attempts(sub, event, firstAttempt), {
      parent: event.trace,
      attributes: { 'messaging.consumer.group.name': sub.consumer },
    });
  }

  private async attempts(sub: Subscription, event: BusEvent, firstAttempt?: { error: unknown }): Promise<Outcome> {
    const { log, metrics, maxAttempts, retryBaseMs } = this.opts;
    const labels = { consumer: sub.consumer, topic: event.topic };
    let lastError: unknown = firstAttempt?.error;
    // The attempt deliverMany made inside its batch counts as the first.
    if (firstAttempt) {
      metrics.failures.inc(labels);
      log.warn({ err: lastError, eventId: event.id, topic: event.topic, consumer: sub.consumer, attempt: 1, maxAttempts }, 'event handler failed');
      if (maxAttempts > 1) await sleep(backoffDelay(0, retryBaseMs, this.opts.retryMaxMs ?? 10_000));
    }
    for (let attempt = firstAttempt ? 2 : 1; attempt <= maxAttempts; attempt++) {
      try {
        const outcome = await applyOnce(sub, event);
        if (outcome === 'duplicate') {
          metrics.duplicates.inc(labels);
        } else {
          metrics.handled.inc(labels);
          metrics.lag.observe({ consumer: sub.consumer }, Math.max(0, Date.now() - Date.parse(event.createdAt)) / 1000);
        }
        return outcome;
      } catch (err) {
        lastError = err;
        metrics.failures.inc(labels);
        log.warn({ err, eventId: event.id, topic: event.topic, consumer: sub.consumer, attempt, maxAttempts }, 'event handler failed');
        if (attempt < maxAttempts) await sleep(backoffDelay(attempt - 1, retryBaseMs, this.opts.retryMaxMs ?? 10_000));
      }
    }
    if (isDependencyFailure(lastError)) throw lastError;
    await writeDeadLetter(sub.mdb.db, sub, event, errorText(lastError), maxAttempts);
    metrics.deadLetters.inc(labels);
    log.error({ eventId: event.id, topic: event.topic, consumer: sub.consumer, attempts: maxAttempts }, 'event dead-lettered');
    return 'dead-lettered';
  }
}
