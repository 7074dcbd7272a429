// The events tables: one per kind (dense arrival index as key, unique trace id) and the running stats.
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../../../db/database.ts';

const KINDS = [
  { table: 'snow_reports', kind: 'snow_report', extra: [['depth', 'integer']] },
  {
    table: 'lift_rides',
    kind: 'lift_ride',
    extra: [
      ['lift_id', 'text'],
      ['wait_minutes', 'integer'],
    ],
  },
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  // `idx` is the event's 0-based arrival position within its kind, assigned by the single writer
  // and never reused, so "the n-th event" is a primary-key lookup. On SQLite `integer primary key`
  // makes it the rowid itself (no second index).
  const idxType = dialectOf(db) === 'postgres' ? 'bigint' : 'integer';
  for (const { table, extra } of KINDS) {
    let t = db.schema
      .createTable(table)
      .addColumn('idx', idxType, (c) => c.primaryKey())
      .addColumn('trace_id', 'text', (c) => c.notNull().unique())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('resort_id', 'text', (c) => c.notNull());
    for (const [name, type] of extra) t = t.addColumn(name, type, (c) => c.notNull());
    await t
      .addColumn('timestamp', 'text', (c) => c.notNull())
      // Fixed-width ISO-8601 UTC text: text order is time order in both dialects.
      .addColumn('date_created', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex(`${table}_date_created`).on(table).columns(['date_created', 'idx']).execute();
  }

  // Updated in the same transaction as the inserts, so reading stats never scans the events.
  await db.schema
    .createTable('event_stats')
    .addColumn('kind', 'text', (c) => c.primaryKey())
    .addColumn('count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('total', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('max_value', 'integer')
    .addColumn('last_updated', 'text')
    .execute();
  for (const { kind } of KINDS) {
    await sql`insert into event_stats (kind, count, total) values (${kind}, 0, 0)`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('event_stats').execute();
  for (const { table } of KINDS) await db.schema.dropTable(table).execute();
}
