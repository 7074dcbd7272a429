// The benchmark database: benchmarks (the password only encrypted), their documents, one report and one notification each.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('benchmarks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('benchmark_type', 'text', (c) => c.notNull())
    .addColumn('target_infra', 'text', (c) => c.notNull())
    .addColumn('target_url', 'text', (c) => c.notNull())
    // Normalised base URL the client calls, and host:port the target names in its callbacks.
    .addColumn('target_base', 'text', (c) => c.notNull())
    .addColumn('target_host', 'text', (c) => c.notNull())
    .addColumn('eigen_version', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    // AES-256-GCM of the password, bound to the id; null once the benchmark has ended.
    .addColumn('password_enc', 'text')
    .addColumn('project_id', 'text')
    // When the last upload request was accepted: callbacks may come before, the report needs none of it.
    .addColumn('uploaded_at', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    // Set once, by whichever of "all documents done", an error or the timeout comes first: the guard that makes one report.
    .addColumn('closing', 'text')
    .addColumn('error', 'text')
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('deadline_ms', 'double precision', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('benchmarks_match').on('benchmarks').columns(['target_host', 'project_id']).execute();
  await db.schema.createIndex('benchmarks_list').on('benchmarks').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('benchmarks_status').on('benchmarks').columns(['status', 'deadline_ms']).execute();

  await db.schema
    .createTable('documents')
    .addColumn('benchmark_id', 'text', (c) => c.notNull().references('benchmarks.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    .addColumn('eigen_document_id', 'text')
    // Epoch seconds as the target sent them (UTC by definition).
    .addColumn('start_time', 'double precision')
    .addColumn('end_time', 'double precision')
    .addPrimaryKeyConstraint('documents_pk', ['benchmark_id', 'name'])
    .execute();

  await db.schema
    .createTable('reports')
    .addColumn('benchmark_id', 'text', (c) => c.primaryKey().references('benchmarks.id').onDelete('cascade'))
    .addColumn('csv', 'text', (c) => c.notNull())
    .addColumn('json', 'text', (c) => c.notNull())
    .addColumn('html', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('benchmark_id', 'text', (c) => c.primaryKey().references('benchmarks.id').onDelete('cascade'))
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('via', 'text', (c) => c.notNull())
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['notifications', 'reports', 'documents', 'benchmarks']) await db.schema.dropTable(t).execute();
}
