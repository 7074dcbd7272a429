// The outbox table: write an event inside the publisher's transaction; claim, delete and count rows for the relay.
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { ModuleDatabase } from '../../db/database.ts';
import { groupedWrite } from '../../db/write-transaction.ts';
import { timeOrderedId } from '../../db/ids.ts';
import { carrierJson, parseCarrier } from '../tracing/index.ts';
import type { BusTables, OutboxTable } from './tables.ts';
import type { BusEvent } from './types.ts';

export type OutboxRow = Selectable<OutboxTable>;

/** Inserts one event row in `trx`; `id` is only passed by tests that simulate a redelivery. */
export async function writeOutbox(trx: Kysely<BusTables>, source: string, topic: string, payload: unknown, id: string = timeOrderedId()): Promise<string> {
  if (typeof topic !== 'string' || topic === '') throw new Error('publish: topic must be a non-empty string');
  await trx
    .insertInto('outbox')
    .values({
      id,
      topic,
      payload: JSON.stringify(payload ?? null),
      created_at: new Date().toISOString(),
      source,
      lease_until: null,
      lease_owner: null,
      // The publishing span (kernel/bus/index.ts publishes inside one), continued by the relay and the consumers.
      trace_context: carrierJson(),
    })
    .execute();
  return id;
}

export function toEvent(row: Pick<OutboxRow, 'id' | 'topic' | 'payload' | 'created_at' | 'source' | 'trace_context'>): BusEvent {
  const event: BusEvent = { id: row.id, topic: row.topic, payload: JSON.parse(row.payload), createdAt: row.created_at, source: row.source };
  const trace = parseCarrier(row.trace_context);
  if (trace) event.trace = trace;
  return event;
}

const free = (now: number) => (eb: ExpressionBuilder<BusTables, 'outbox'>) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]);

/**
 * Leases up to `limit` unclaimed (or expired) rows to `owner` in ONE statement, oldest first.
 * Two relays may share an outbox; the outer lease condition makes Postgres re-check a row another
 * relay updated meanwhile, and SKIP LOCKED lets the second relay take other rows instead of waiting.
 */
export async function claimBatch(mdb: ModuleDatabase, owner: string, leaseMs: number, limit: number): Promise<OutboxRow[]> {
  const now = Date.now();
  // A read first: on SQLite the UPDATE takes the write lock even when nothing matches, and most polls find nothing.
  const any = await mdb.db.selectFrom('outbox').select('seq').where(free(now)).limit(1).executeTakeFirst();
  if (!any) return [];
  let candidates = mdb.db.selectFrom('outbox').select('seq').where(free(now)).orderBy('seq').limit(limit);
  if (mdb.dialect === 'postgres') candidates = candidates.forUpdate().skipLocked();
  // Grouped: on SQLite the claim shares the commit (and the fsync) of the writes around it.
  const rows = (await groupedWrite(mdb.db, (db) =>
    db
      .updateTable('outbox')
      .set({ lease_until: now + leaseMs, lease_owner: owner })
      .where('seq', 'in', candidates)
      .where(free(now))
      .returningAll()
      .execute(),
  )) as OutboxRow[];
  return rows.map((r) => ({ ...r, seq: Number(r.seq) })).sort((a, b) => a.seq - b.seq);
}

export async function deleteRows(mdb: ModuleDatabase, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await groupedWrite(mdb.db, (db) => db.deleteFrom('outbox').where('id', 'in', ids).execute());
}

/**
 * Sets the lease of rows this relay owns to end `ms` from now: a long lease while a slow batch is still
 * being delivered, a short one to hand undelivered rows back to any relay.
 */
export async function leaseFor(mdb: ModuleDatabase, ids: string[], owner: string, ms: number): Promise<void> {
  if (ids.length === 0) return;
  await groupedWrite(mdb.db, (db) =>
    db
      .updateTable('outbox')
      .set({ lease_until: Date.now() + ms })
      .where('id', 'in', ids)
      .where('lease_owner', '=', owner)
      .execute(),
  );
}

export async function outboxDepth(mdb: ModuleDatabase): Promise<number> {
  return (await outboxStats(mdb)).depth;
}

/** Rows waiting, and how long the oldest has waited (0 when empty): the publisher side of the bus lag. */
export async function outboxStats(mdb: ModuleDatabase): Promise<{ depth: number; oldestAgeSeconds: number }> {
  const row = await mdb.db
    .selectFrom('outbox')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('created_at').as('oldest')])
    .executeTakeFirst();
  const oldest = row?.oldest ? Date.parse(String(row.oldest)) : NaN;
  return { depth: Number(row?.n ?? 0), oldestAgeSeconds: Number.isNaN(oldest) ? 0 : Math.max(0, (Date.now() - oldest) / 1000) };
}
