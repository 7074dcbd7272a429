// The write path's SQL text, built once per (dialect, kind, batch size) and reused: no query builder on the hot path.
import type { Dialect } from '../../../../db/database.ts';
import type { EventKind, StoreInput } from '../../contract.ts';
import type { LiftRidesTable, SnowReportsTable } from '../../db.ts';

/** A column of a kind's table (db.ts). */
export type KindColumn = keyof SnowReportsTable | keyof LiftRidesTable;

export interface KindTable {
  table: 'snow_reports' | 'lift_rides';
  /** Columns after trace_id, in insert order. */
  columns: readonly KindColumn[];
  /** The numeric column the stats track (max / average). */
  measure: 'depth' | 'wait_minutes';
  /** The event's values for `columns`, in the same order. */
  values(event: StoreInput['event']): unknown[];
}

export const TABLES: Record<EventKind, KindTable> = {
  snow_report: {
    table: 'snow_reports',
    columns: ['device_id', 'resort_id', 'depth', 'timestamp'],
    measure: 'depth',
    values: (e) => {
      const s = e as Extract<StoreInput, { kind: 'snow_report' }>['event'];
      return [s.device_id, s.resort_id, s.depth, s.timestamp];
    },
  },
  lift_ride: {
    table: 'lift_rides',
    columns: ['device_id', 'resort_id', 'lift_id', 'wait_minutes', 'timestamp'],
    measure: 'wait_minutes',
    values: (e) => {
      const l = e as Extract<StoreInput, { kind: 'lift_ride' }>['event'];
      return [l.device_id, l.resort_id, l.lift_id, l.wait_minutes, l.timestamp];
    },
  },
};

/** Parameter markers: `?` for SQLite, `$1, $2, …` for Postgres. */
function marker(dialect: Dialect): () => string {
  let n = 0;
  return dialect === 'postgres' ? () => `$${++n}` : () => '?';
}

const cache = new Map<string, string>();
const CACHE_LIMIT = 256;

function cached(key: string, build: () => string): string {
  let text = cache.get(key);
  if (text === undefined) {
    // Batch sizes vary under load; a bounded cache keeps the common ones without growing forever.
    if (cache.size >= CACHE_LIMIT) cache.clear();
    text = build();
    cache.set(key, text);
  }
  return text;
}

/**
 * One INSERT of `rows` events of a kind. Values per row: idx, trace_id, the kind's columns,
 * date_created. A trace id already stored is skipped (not counted as inserted), which is how the
 * writer tells retries from new events.
 */
export function insertSql(dialect: Dialect, kind: EventKind, rows: number): string {
  return cached(`${dialect}:insert:${kind}:${rows}`, () => {
    const { table, columns } = TABLES[kind];
    const next = marker(dialect);
    const width = columns.length + 3;
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) {
      const cells: string[] = [];
      for (let c = 0; c < width; c++) cells.push(next());
      tuples.push(`(${cells.join(', ')})`);
    }
    const names = ['idx', 'trace_id', ...columns, 'date_created'].map((c) => `"${c}"`).join(', ');
    return `insert into "${table}" (${names}) values ${tuples.join(', ')} on conflict ("trace_id") do nothing`;
  });
}

/**
 * Adds one batch's new events to the kind's stats and returns the count after it; the UPDATE locks the row, so
 * writers in other processes queue. Params: count, total, batch max (twice), last_updated, kind.
 */
export function addStatsSql(dialect: Dialect): string {
  return cached(`${dialect}:stats`, () => {
    const p = marker(dialect);
    return (
      `update "event_stats" set "count" = "count" + ${p()}, "total" = "total" + ${p()}, ` +
      `"max_value" = case when "max_value" is null or "max_value" < ${p()} then ${p()} else "max_value" end, ` +
      `"last_updated" = ${p()} where "kind" = ${p()} returning "count"`
    );
  });
}

/** Begins the batch transaction; SQLite takes the write lock up front so it never has to upgrade (SQLITE_BUSY). */
export const beginSql = (dialect: Dialect) => (dialect === 'sqlite' ? 'begin immediate' : 'begin');

/** A stored event's answer (index, date_created) by trace id, for retries. */
export function traceLookupSql(dialect: Dialect, kind: EventKind): string {
  return `select "idx", "date_created" from "${TABLES[kind].table}" where "trace_id" = ${dialect === 'postgres' ? '$1' : '?'}`;
}
