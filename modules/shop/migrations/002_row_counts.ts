// Maintained row counts of products and orders, so the `total` of a list page is one row read, not a COUNT(*) of the table.
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../../../db/database.ts';

const COUNTED = ['products', 'orders'] as const;

/**
 * Triggers keep `row_counts` exact whoever writes (the stores, the seed hook, a `psql` session), in the
 * writing transaction. SQLite: a row trigger per insert/delete. Postgres: a statement trigger per
 * INSERT/DELETE that adds the size of its transition table — one update per statement, so a bulk seed
 * touches the counter once. Every writer of a table then queues on its counter row until it commits;
 * SQLite has one writer anyway, and on Postgres these are short autocommit or order transactions.
 * TRUNCATE is not counted: never truncate these tables.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('row_counts')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .execute();
  for (const table of COUNTED) await sql`insert into row_counts (name, n) select ${sql.lit(table)}, count(*) from ${sql.table(table)}`.execute(db);

  if (dialectOf(db) === 'sqlite') {
    for (const table of COUNTED) {
      await sql`create trigger ${sql.id(`${table}_counted_insert`)} after insert on ${sql.table(table)}
        begin update row_counts set n = n + 1 where name = ${sql.lit(table)}; end`.execute(db);
      await sql`create trigger ${sql.id(`${table}_counted_delete`)} after delete on ${sql.table(table)}
        begin update row_counts set n = n - 1 where name = ${sql.lit(table)}; end`.execute(db);
    }
    return;
  }
  await sql`create function count_rows() returns trigger language plpgsql as $$
    declare delta bigint;
    begin
      if tg_op = 'INSERT' then select count(*) into delta from changed; else select -count(*) into delta from changed; end if;
      if delta <> 0 then
        execute format('update %I.row_counts set n = n + $1 where name = $2', tg_table_schema) using delta, tg_table_name;
      end if;
      return null;
    end $$`.execute(db);
  for (const table of COUNTED) {
    await sql`create trigger ${sql.id(`${table}_counted_insert`)} after insert on ${sql.table(table)}
      referencing new table as changed for each statement execute function count_rows()`.execute(db);
    await sql`create trigger ${sql.id(`${table}_counted_delete`)} after delete on ${sql.table(table)}
      referencing old table as changed for each statement execute function count_rows()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  for (const table of COUNTED) {
    for (const event of ['insert', 'delete']) {
      const name = sql.id(`${table}_counted_${event}`);
      await (pg ? sql`drop trigger ${name} on ${sql.table(table)}` : sql`drop trigger ${name}`).execute(db);
    }
  }
  if (pg) await sql`drop function count_rows()`.execute(db);
  await db.schema.dropTable('row_counts').execute();
}
