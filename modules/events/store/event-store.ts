// The events store: batched idempotent inserts with stats in the same transaction, range pages, audit lookups.
import { CompiledQuery, type Kysely } from 'kysely';
import type { Dialect } from '../../../kernel/module.ts';
import type { EventKind, EventStats, ListResult, StoredEvent, StoreInput, StoreResult } from '../contract.ts';
import { eventErrors } from '../errors.ts';
import { decodeCursor, encodeCursor, isoNow, normalizeBound } from './bounds.ts';
import { beginSql, insertSql, lockStatsSql, TABLES, updateStatsSql } from './sql.ts';

export interface ListQuery {
  kind: EventKind;
  start_timestamp: string;
  end_timestamp: string;
  limit?: number;
  cursor?: string;
}

export interface EventStore {
  /** Writes a batch in ONE transaction; resolves after commit with one answer per input, in order. */
  writeBatch(items: StoreInput[]): Promise<StoreResult[]>;
  list(query: ListQuery): Promise<ListResult>;
  stats(): Promise<EventStats>;
  at(kind: EventKind, index: number): Promise<StoredEvent>;
  byTrace(kind: EventKind, traceId: string): Promise<StoredEvent>;
}

/** Raised inside the transaction when some trace ids were already stored: roll back, retry without them. */
class AlreadyStored extends Error {
  constructor(readonly kind: EventKind, readonly traceIds: string[]) {
    super(`${traceIds.length} ${kind} trace id(s) already stored`);
  }
}

const LABEL: Record<EventKind, string> = { snow_report: 'snow report', lift_ride: 'lift ride' };
const keyOf = (kind: EventKind, traceId: string) => `${kind}\u0000${traceId}`;

export function createEventStore(db: Kysely<any>, dialect: Dialect): EventStore {
  let lastStamp = '';
  // date_created never goes backwards, even if the wall clock does (NTP step): pages stay in arrival order.
  const stamp = () => {
    const now = isoNow();
    lastStamp = now > lastStamp ? now : lastStamp;
    return lastStamp;
  };
  const run = (conn: Kysely<any>, text: string, params: unknown[] = []) =>
    conn.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, params));

  /** One transaction for all new events of the batch; throws AlreadyStored (after rolling back) on a retry. */
  async function commit(pending: Map<EventKind, StoreInput[]>, answers: Map<string, StoreResult>): Promise<void> {
    const dateCreated = stamp();
    const fresh: Array<[string, StoreResult]> = [];
    await db.connection().execute(async (conn) => {
      await run(conn, beginSql(dialect));
      try {
        for (const [kind, items] of pending) {
          if (items.length === 0) continue;
          const spec = TABLES[kind];
          const locked = await run(conn, lockStatsSql(dialect), [kind]);
          const base = Number(locked.rows[0]?.count);
          if (!Number.isSafeInteger(base)) throw new Error(`event_stats has no row for ${kind}; were the migrations applied?`);
          const params: unknown[] = [];
          let total = 0;
          let max = 0;
          items.forEach((item, i) => {
            params.push(base + i, item.trace_id, ...spec.values(item.event), dateCreated);
            const value = (item.event as unknown as Record<string, number>)[spec.measure];
            total += value;
            if (value > max) max = value;
          });
          const inserted = await run(conn, insertSql(dialect, kind, items.length), params);
          if (inserted.rows.length !== items.length) {
            const got = new Set(inserted.rows.map((r) => r.trace_id as string));
            throw new AlreadyStored(kind, items.filter((it) => !got.has(it.trace_id)).map((it) => it.trace_id));
          }
          await run(conn, updateStatsSql(dialect), [items.length, total, max, max, dateCreated, kind]);
          items.forEach((item, i) => fresh.push([keyOf(kind, item.trace_id), { trace_id: item.trace_id, index: base + i, date_created: dateCreated }]));
        }
        await run(conn, 'commit');
      } catch (err) {
        await run(conn, 'rollback').catch(() => {});
        throw err;
      }
    });
    for (const [key, answer] of fresh) answers.set(key, answer);
  }

  async function writeBatch(items: StoreInput[]): Promise<StoreResult[]> {
    // Within a batch the first item per trace id wins; later ones get its answer.
    const pending = new Map<EventKind, StoreInput[]>();
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(item.kind, item.trace_id);
      if (seen.has(key)) continue;
      seen.add(key);
      let list = pending.get(item.kind);
      if (!list) pending.set(item.kind, (list = []));
      list.push(item);
    }
    const answers = new Map<string, StoreResult>();
    const existing: Array<[EventKind, string]> = [];
    for (let attempt = 0; ; attempt++) {
      try {
        await commit(pending, answers);
        break;
      } catch (err) {
        // Rare: a retried request. Only new rows may take an index, so drop the stored ones and redo.
        if (!(err instanceof AlreadyStored) || attempt >= 5) throw err;
        const stored = new Set(err.traceIds);
        pending.set(err.kind, pending.get(err.kind)!.filter((it) => !stored.has(it.trace_id)));
        for (const id of err.traceIds) existing.push([err.kind, id]);
      }
    }
    for (const [kind, traceId] of existing) {
      const row = await byTrace(kind, traceId);
      answers.set(keyOf(kind, traceId), { trace_id: row.trace_id, index: row.index, date_created: row.date_created });
    }
    return items.map((item) => answers.get(keyOf(item.kind, item.trace_id))!);
  }

  function toEvent(kind: EventKind, row: Record<string, unknown>): StoredEvent {
    const head = { trace_id: row.trace_id as string, index: Number(row.idx), device_id: row.device_id as string, resort_id: row.resort_id as string };
    const tail = { timestamp: row.timestamp as string, date_created: row.date_created as string };
    return kind === 'snow_report'
      ? { ...head, depth: Number(row.depth), ...tail }
      : { ...head, lift_id: row.lift_id as string, wait_minutes: Number(row.wait_minutes), ...tail };
  }

  const columns = (kind: EventKind) => ['idx', 'trace_id', ...TABLES[kind].columns, 'date_created'];

  async function list(query: ListQuery): Promise<ListResult> {
    const { kind } = query;
    const start = normalizeBound(query.start_timestamp, 'start_timestamp');
    const end = normalizeBound(query.end_timestamp, 'end_timestamp');
    if (start > end) throw eventErrors.INVALID_RANGE(`start_timestamp (${start}) is after end_timestamp (${end})`);
    const limit = query.limit ?? 100;
    let q = db
      .selectFrom(TABLES[kind].table)
      .select(columns(kind))
      .where('date_created', '>=', start)
      .where('date_created', '<', end);
    if (query.cursor !== undefined) {
      const after = decodeCursor(kind, query.cursor);
      q = q.where((eb) => eb(eb.refTuple('date_created', 'idx'), '>', eb.tuple(after.dateCreated, after.idx)));
    }
    const rows = await q.orderBy('date_created').orderBy('idx').limit(limit + 1).execute();
    const page = rows.slice(0, limit).map((r) => toEvent(kind, r));
    const last = page[page.length - 1];
    const next_cursor = rows.length > limit && last ? encodeCursor(kind, { dateCreated: last.date_created, idx: last.index }) : null;
    return { items: page, next_cursor };
  }

  async function stats(): Promise<EventStats> {
    const rows = await db.selectFrom('event_stats').select(['kind', 'count', 'total', 'max_value', 'last_updated']).execute();
    const of = (kind: EventKind) => {
      const r = rows.find((x) => x.kind === kind);
      const count = Number(r?.count ?? 0);
      return {
        count,
        max: count > 0 && r?.max_value != null ? Number(r.max_value) : null,
        avg: count > 0 ? Number(r!.total) / count : null,
        last: (r?.last_updated as string | null) ?? null,
      };
    };
    const snow = of('snow_report');
    const lift = of('lift_ride');
    const newest = [snow.last, lift.last].filter((x): x is string => x !== null).sort().pop() ?? null;
    return {
      snow_reports: { count: snow.count, max_depth: snow.max, avg_depth: snow.avg, last_updated: snow.last },
      lift_rides: { count: lift.count, max_wait_minutes: lift.max, avg_wait_minutes: lift.avg, last_updated: lift.last },
      last_updated: newest,
    };
  }

  async function at(kind: EventKind, index: number): Promise<StoredEvent> {
    const row = await db.selectFrom(TABLES[kind].table).select(columns(kind)).where('idx', '=', index).executeTakeFirst();
    if (!row) throw eventErrors.EVENT_NOT_FOUND(`There is no ${LABEL[kind]} at index ${index}`);
    return toEvent(kind, row);
  }

  async function byTrace(kind: EventKind, traceId: string): Promise<StoredEvent> {
    const row = await db.selectFrom(TABLES[kind].table).select(columns(kind)).where('trace_id', '=', traceId).executeTakeFirst();
    if (!row) throw eventErrors.EVENT_NOT_FOUND(`There is no ${LABEL[kind]} with trace id ${traceId}`);
    return toEvent(kind, row);
  }

  return { writeBatch, list, stats, at, byTrace };
}
