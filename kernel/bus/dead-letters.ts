// Dead letters: list them across the consumers' databases and replay them through the consumer's handler.
import type { Logger } from 'pino';
import type { ModuleDatabase } from '../../db/database.ts';
import { parseCarrier, traced } from '../tracing/index.ts';
import { applyOnce, errorText, type Subscription } from './consumer.ts';
import type { DeadLettersTable } from './tables.ts';
import type { BusEvent, DeadLetter } from './types.ts';

type DeadLetterRow = DeadLettersTable;

interface Found {
  row: DeadLetterRow;
  mdb: ModuleDatabase;
}

const moduleOf = (consumer: string) => consumer.split('.')[0];

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    consumer: row.consumer,
    eventId: row.event_id,
    topic: row.topic,
    payload: JSON.parse(row.payload),
    error: row.error,
    attempts: Number(row.attempts),
    failedAt: row.failed_at,
    module: moduleOf(row.consumer),
  };
}

// Several consumers may share one module database; read each database once.
async function findRows(subs: Subscription[], id?: string): Promise<Found[]> {
  const found: Found[] = [];
  for (const mdb of new Set(subs.map((s) => s.mdb))) {
    let q = mdb.db.selectFrom('dead_letters').selectAll().orderBy('failed_at').orderBy('id');
    if (id !== undefined) q = q.where('id', '=', id);
    for (const row of (await q.execute()) as DeadLetterRow[]) found.push({ row, mdb });
  }
  return found;
}

export async function listDeadLetters(subs: Subscription[]): Promise<DeadLetter[]> {
  const rows = await findRows(subs);
  return rows.map((f) => toDeadLetter(f.row)).sort((a, b) => a.failedAt.localeCompare(b.failedAt));
}

/**
 * One more attempt per dead letter, through the inbox; on success the dead letter is deleted in the
 * handler's own transaction, on failure its error, attempt count and time are updated.
 */
export async function replayDeadLetters(subs: Subscription[], log: Logger, id?: string): Promise<{ replayed: number; failed: number }> {
  let replayed = 0;
  let failed = 0;
  for (const { row, mdb } of await findRows(subs, id)) {
    const sub = subs.find((s) => s.consumer === row.consumer && s.topic === row.topic && s.mdb === mdb);
    if (!sub) {
      failed++;
      log.warn({ deadLetter: row.id, consumer: row.consumer, topic: row.topic }, 'cannot replay: that consumer is not subscribed in this process');
      continue;
    }
    const event: BusEvent = { id: row.event_id, topic: row.topic, payload: JSON.parse(row.payload), createdAt: row.created_at, source: row.source };
    const original = parseCarrier(row.trace_context);
    if (original) event.trace = original;
    try {
      // A trace of its own (an operator started it, not the publisher), linked to the event's original one.
      const outcome = await traced(
        `replay ${row.topic}`,
        'consumer',
        () =>
          applyOnce(sub, event, (trx) =>
            trx
              .deleteFrom('dead_letters')
              .where('id', '=', row.id)
              .execute()
              .then(() => {}),
          ),
        { links: [original], attributes: { 'messaging.consumer.group.name': row.consumer } },
      );
      // Applied meanwhile by a redelivery: the inbox says so, the dead letter is obsolete.
      if (outcome === 'duplicate') await mdb.db.deleteFrom('dead_letters').where('id', '=', row.id).execute();
      replayed++;
      log.info({ deadLetter: row.id, eventId: event.id, consumer: row.consumer, outcome }, 'dead letter replayed');
    } catch (err) {
      failed++;
      log.warn({ err, deadLetter: row.id, eventId: event.id, consumer: row.consumer }, 'dead letter replay failed');
      await mdb.db
        .updateTable('dead_letters')
        .set({ error: errorText(err), attempts: Number(row.attempts) + 1, failed_at: new Date().toISOString() })
        .where('id', '=', row.id)
        .execute();
    }
  }
  return { replayed, failed };
}

/** Deletes one dead letter unreplayed (an operator judged it obsolete); false when no database held it any more. */
export async function discardDeadLetter(subs: Subscription[], log: Logger, id: string): Promise<boolean> {
  for (const { row, mdb } of await findRows(subs, id)) {
    const result = await mdb.db.deleteFrom('dead_letters').where('id', '=', row.id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) continue;
    log.info({ deadLetter: row.id, eventId: row.event_id, consumer: row.consumer, topic: row.topic }, 'dead letter discarded');
    return true;
  }
  return false;
}

/** One line per dead letter, for the CLI. */
export function formatDeadLetters(list: DeadLetter[]): string {
  if (list.length === 0) return 'no dead letters';
  return list.map((d) => `${d.id}  ${d.failedAt}  ${d.consumer}  ${d.topic}  event=${d.eventId}  attempts=${d.attempts}  ${d.error.split('\n')[0]}`).join('\n');
}
