// The original's three tables: projects (unique name), their tags, and threads typed by a Postgres enum as it had.
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../../../db/database.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const serial = pg ? 'serial' : 'integer';
  const autoId = (c: any) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement());

  await db.schema
    .createTable('projects')
    .addColumn('id', serial, autoId)
    .addColumn('project_name', 'text', (c) => c.notNull().unique())
    .addColumn('tagline', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('tags')
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('tags_pk', ['project_id', 'tag'])
    .execute();
  await db.schema.createIndex('tags_by_tag').on('tags').columns(['tag', 'project_id']).execute();

  // SQLite has no enum: the same three values, held by a CHECK.
  if (pg) await sql`create type thread_type as enum ('comment', 'solution', 'problem')`.execute(db);
  await db.schema
    .createTable('threads')
    .addColumn('id', serial, autoId)
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('thread_type', pg ? sql`thread_type` : 'text', (c) =>
      pg ? c.notNull() : c.notNull().check(sql`thread_type in ('comment', 'solution', 'problem')`),
    )
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('threads_by_project').on('threads').columns(['project_id', 'id']).execute();
}

/** Tables before the type they use: the original dropped the enum first, which fails once a thread exists. */
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['threads', 'tags', 'projects']) await db.schema.dropTable(t).execute();
  if (dialectOf(db) === 'postgres') await sql`drop type thread_type`.execute(db);
}
