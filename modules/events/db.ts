// The events tables (migrations/), as both engines return them: the storage role's ctx.db is a Kysely<EventsDB>.
// `idx`, `count` and `total` are bigint on Postgres, which comes back as a number (db/database.ts parses int8).
// The write path does not use these types: it is raw SQL (storage/store/sql.ts), also run in the writer thread.
import type { Generated, Kysely } from 'kysely';
import type { EventKind } from './contract.ts';

/** The columns every kind's table has. */
interface EventColumns {
  /** The event's 0-based arrival position within its kind (the primary key; SQLite's rowid). */
  idx: number;
  trace_id: string;
  device_id: string;
  resort_id: string;
  /** The client's timestamp, as stored text (storage/store/bounds.ts). */
  timestamp: string;
  /** Fixed-width ISO-8601 UTC: text order is time order. */
  date_created: string;
}

export interface SnowReportsTable extends EventColumns {
  depth: number;
}

export interface LiftRidesTable extends EventColumns {
  lift_id: string;
  wait_minutes: number;
}

/** One row per kind, updated in the transaction of the inserts it counts. */
export interface EventStatsTable {
  kind: EventKind;
  count: Generated<number>;
  /** The sum of the kind's measure (depth, wait_minutes). */
  total: Generated<number>;
  max_value: number | null;
  last_updated: string | null;
}

export interface EventsDB {
  snow_reports: SnowReportsTable;
  lift_rides: LiftRidesTable;
  event_stats: EventStatsTable;
}

export type EventsDatabase = Kysely<EventsDB>;
