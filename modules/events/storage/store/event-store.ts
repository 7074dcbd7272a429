// The events store: batched idempotent inserts with stats in the same transaction, range pages, audit lookups.
import type { CachedSqlite } from '../../../../db/statement-cache.ts';
import { CompiledQuery, type Selectable } from 'kysely';
import type { Dialect } from '../../../../db/database.ts';
import type { Reader } from '../../../../db/read.ts';
import type { EventKind, EventStats, ListInput, ListResult, StoredEvent, StoreInput, StoreResult } from '../../contract.ts';
import type { EventsDatabase, EventStatsTable, LiftRidesTable, SnowReportsTable } from '../../db.ts';
import { eventErrors } from '../../errors.ts';
import { encodeListCursor, normalizeBound, readCursor, type EventCursor } from './bounds.ts';
import { TABLES, type KindColumn } from './sql.ts';
import { createBatchWriter, sqliteRunner, type BatchWriter, type Row } from './write-batch.ts';

export interface ListQuery {
  kind: EventKind;
  start_timestamp: string;
  end_timestamp: string;
  limit?: number;
  /** The decoded cursor: the last row of the previous page. */
  after?: EventCursor;
}

/** The contract's list input (cursor as text) as a query; a bad cursor is 400 VALIDATION_ERROR. */
export function listQueryOf({ cursor, ...range }: ListInput): ListQuery {
  return { ...range, after: readCursor(range.kind, cursor) };
}

export interface EventStore {
  /** Writes a batch in ONE transaction; resolves after commit with one answer per input, in order. */
  writeBatch(items: StoreInput[]): Promise<StoreResult[]>;
  list(query: ListQuery): Promise<ListResult>;
  stats(): Promise<EventStats>;
  at(kind: EventKind, index: number): Promise<StoredEvent>;
  byTrace(kind: EventKind, traceId: string): Promise<StoredEvent>;
}

type SnowRow = Selectable<SnowReportsTable>;
type LiftRow = Selectable<LiftRidesTable>;

const LABEL: Record<EventKind, string> = { snow_report: 'snow report', lift_ride: 'lift ride' };

export interface EventStoreOptions {
  /** The reads' SQL text runs here (the role's `ctx.read`). */
  read: Reader;
  /** Where batches are written; default: a transaction on `db` (the SQLite writer thread passes its own). */
  writer?: BatchWriter;
  /** SQLite: the connection under `db`; batches then skip the query builder (under its lock all the same). */
  sqlite?: CachedSqlite;
}

export function createEventStore(db: EventsDatabase, dialect: Dialect, options: EventStoreOptions): EventStore {
  const { read } = options;
  const direct = options.sqlite && sqliteRunner(options.sqlite);
  const writeBatch =
    options.writer ??
    createBatchWriter({
      dialect,
      // Kysely's connection lock keeps every other query out of the batch's transaction.
      exclusive: (fn) =>
        db.connection().execute((conn) =>
          fn(
            direct ?? {
              run: (text, params = []) =>
                conn.executeQuery<Row>(CompiledQuery.raw(text, params)).then((r) => ({ rows: r.rows, changes: Number(r.numAffectedRows ?? 0) })),
            },
          ),
        ),
    });

  /** A row of `kind`'s table (the columns of `columns(kind)`). */
  function toEvent(kind: EventKind, r: SnowRow | LiftRow): StoredEvent {
    // Literals in the contract's field order (no spreads: a read answers with this object as it is).
    if (kind === 'snow_report') {
      const { depth } = r as SnowRow;
      return {
        trace_id: r.trace_id,
        index: r.idx,
        device_id: r.device_id,
        resort_id: r.resort_id,
        depth,
        timestamp: r.timestamp,
        date_created: r.date_created,
      };
    }
    const { lift_id, wait_minutes } = r as LiftRow;
    return {
      trace_id: r.trace_id,
      index: r.idx,
      device_id: r.device_id,
      resort_id: r.resort_id,
      lift_id,
      wait_minutes,
      timestamp: r.timestamp,
      date_created: r.date_created,
    };
  }

  // The reads' SQL, built once per kind: no query builder on a read path.
  const reads = (kind: EventKind) => {
    const columns: KindColumn[] = ['idx', 'trace_id', ...TABLES[kind].columns, 'date_created'];
    const select = `select ${columns.map((c) => `"${c}"`).join(', ')} from "${TABLES[kind].table}"`;
    const range = `${select} where "date_created" >= ? and "date_created" < ?`;
    const page = 'order by "date_created", "idx" limit ?';
    return {
      at: `${select} where "idx" = ?`,
      byTrace: `${select} where "trace_id" = ?`,
      list: `${range} ${page}`,
      listAfter: `${range} and ("date_created", "idx") > (?, ?) ${page}`,
    };
  };
  const SQL = { snow_report: reads('snow_report'), lift_ride: reads('lift_ride') };
  const STATS = 'select "kind", "count", "total", "max_value", "last_updated" from "event_stats"';

  async function list(query: ListQuery): Promise<ListResult> {
    const { kind } = query;
    const start = normalizeBound(query.start_timestamp, 'start_timestamp');
    const end = normalizeBound(query.end_timestamp, 'end_timestamp');
    if (start > end) throw eventErrors.INVALID_RANGE(`start_timestamp (${start}) is after end_timestamp (${end})`);
    const limit = query.limit ?? 100;
    const rows =
      query.after === undefined
        ? await read.all<SnowRow | LiftRow>(SQL[kind].list, [start, end, limit + 1])
        : await read.all<SnowRow | LiftRow>(SQL[kind].listAfter, [start, end, query.after[1], query.after[2], limit + 1]);
    const page = rows.slice(0, limit).map((r) => toEvent(kind, r));
    const last = page[page.length - 1];
    const next_cursor = rows.length > limit && last ? encodeListCursor(kind, last.date_created, last.index) : null;
    return { items: page, next_cursor };
  }

  async function stats(): Promise<EventStats> {
    const rows = await read.all<Selectable<EventStatsTable>>(STATS);
    const of = (kind: EventKind) => {
      const r = rows.find((x) => x.kind === kind);
      const count = r?.count ?? 0;
      return {
        count,
        max: count > 0 && r?.max_value != null ? r.max_value : null,
        avg: count > 0 ? r!.total / count : null,
        last: r?.last_updated ?? null,
      };
    };
    const snow = of('snow_report');
    const lift = of('lift_ride');
    const newest =
      [snow.last, lift.last]
        .filter((x): x is string => x !== null)
        .sort()
        .pop() ?? null;
    return {
      snow_reports: { count: snow.count, max_depth: snow.max, avg_depth: snow.avg, last_updated: snow.last },
      lift_rides: { count: lift.count, max_wait_minutes: lift.max, avg_wait_minutes: lift.avg, last_updated: lift.last },
      last_updated: newest,
    };
  }

  async function at(kind: EventKind, index: number): Promise<StoredEvent> {
    const row = await read.first<SnowRow | LiftRow>(SQL[kind].at, [index]);
    if (!row) throw eventErrors.EVENT_NOT_FOUND(`There is no ${LABEL[kind]} at index ${index}`);
    return toEvent(kind, row);
  }

  async function byTrace(kind: EventKind, traceId: string): Promise<StoredEvent> {
    const row = await read.first<SnowRow | LiftRow>(SQL[kind].byTrace, [traceId]);
    if (!row) throw eventErrors.EVENT_NOT_FOUND(`There is no ${LABEL[kind]} with trace id ${traceId}`);
    return toEvent(kind, row);
  }

  return { writeBatch, list, stats, at, byTrace };
}
