// Replies (the original's sub-threads, which it had and removed) and one vote per voter per thread.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // 0 is a top-level thread, as proto3 sends it. No foreign key: SQLite cannot drop a column that has
  // one, and the service checks the parent (same project) in the writing transaction anyway.
  await db.schema
    .alterTable('threads')
    .addColumn('parent_thread_id', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('threads')
    .addColumn('reply_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('threads_by_parent').on('threads').columns(['parent_thread_id', 'id']).execute();
  // A project's top-level threads (parent 0): without it SQLite walks every top-level thread of every project.
  await db.schema.createIndex('threads_by_project_parent').on('threads').columns(['project_id', 'parent_thread_id', 'id']).execute();

  await db.schema
    .createTable('votes')
    .addColumn('thread_id', 'integer', (c) => c.notNull().references('threads.id').onDelete('cascade'))
    .addColumn('voter_id', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('voted_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('votes_pk', ['thread_id', 'voter_id'])
    .execute();
}

/** Drops what up added; a thread keeps its counts (002), only who cast them is forgotten. */
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('votes').execute();
  // An index on a column blocks SQLite's DROP COLUMN: the index goes first.
  await db.schema.dropIndex('threads_by_project_parent').execute();
  await db.schema.dropIndex('threads_by_parent').execute();
  await db.schema.alterTable('threads').dropColumn('reply_count').execute();
  await db.schema.alterTable('threads').dropColumn('parent_thread_id').execute();
}
