// Applying an event for one consumer: inbox entry + handler in one transaction, retries with backoff, then a dead letter.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { ModuleDatabase } from '../../db/database.ts';
import { backoffDelay, sleep } from '../backoff.ts';
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

/**
 * One attempt: records (consumer, event id) in the inbox and runs the handler in the same transaction.
 * Already in the inbox → 'duplicate' and nothing else is written. `also` runs in that transaction on success.
 */
export async function applyOnce(
  sub: Subscription,
  event: BusEvent,
  also?: (trx: Transaction<any>) => Promise<void>,
): Promise<'applied' | 'duplicate'> {
  return sub.mdb.db.transaction().execute(async (trx) => {
    const res = await trx
      .insertInto('inbox')
      .values({ consumer: sub.consumer, event_id: event.id, handled_at: new Date().toISOString() })
      .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0) === 0) return 'duplicate';
    await sub.handler(event, trx);
    if (also) await also(trx);
    return 'applied';
  });
}

/** Stores (or refreshes, on a redelivery) the dead letter of `event` for this consumer. */
export async function writeDeadLetter(db: Kysely<any>, sub: Subscription, event: BusEvent, error: string, attempts: number): Promise<void> {
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

export class Consumer {
  constructor(private readonly opts: ConsumerOptions) {}

  /**
   * Applies `event` or dead-letters it. Throws only when even the dead letter cannot be written
   * (the consumer's database is down): the caller then keeps the event and delivers it again later.
   */
  async deliver(sub: Subscription, event: BusEvent): Promise<Outcome> {
    const { log, metrics, maxAttempts, retryBaseMs } = this.opts;
    const labels = { consumer: sub.consumer, topic: event.topic };
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
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
    await writeDeadLetter(sub.mdb.db, sub, event, errorText(lastError), maxAttempts);
    metrics.deadLetters.inc(labels);
    log.error({ eventId: event.id, topic: event.topic, consumer: sub.consumer, attempts: maxAttempts }, 'event dead-lettered');
    return 'dead-lettered';
  }
}
