// The callback path's two lookups as index reads: "does this benchmark still have an unfinished document?" from a
// partial index of the unfinished ones (the batch asked it by counting all of a benchmark's documents), and the
// match's newest-first order from the index itself (no sort).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX documents_unfinished ON documents (benchmark_id) WHERE start_time IS NULL OR end_time IS NULL`.execute(db);
  await db.schema.dropIndex('benchmarks_match').execute();
  await db.schema.createIndex('benchmarks_match').on('benchmarks').columns(['target_host', 'project_id', 'created_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('documents_unfinished').execute();
  await db.schema.dropIndex('benchmarks_match').execute();
  await db.schema.createIndex('benchmarks_match').on('benchmarks').columns(['target_host', 'project_id']).execute();
}
