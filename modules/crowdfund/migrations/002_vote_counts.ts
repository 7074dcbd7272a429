// The spec's exercise of adding a column through a migration: up and down vote counts on every thread.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Existing threads start at zero; SQLite adds a NOT NULL column only with a default.
  await db.schema
    .alterTable('threads')
    .addColumn('up_votes', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('threads')
    .addColumn('down_votes', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE drops one at a time.
  await db.schema.alterTable('threads').dropColumn('down_votes').execute();
  await db.schema.alterTable('threads').dropColumn('up_votes').execute();
}
