// A count of each benchmark's documents still without both times, kept by the callbacks that complete them, in
// place of the partial index of unfinished documents (002): the index had an entry rewritten by every callback
// (each sets a column of its WHERE); the count is one narrow row written per benchmark per group commit (a column
// of benchmarks would rewrite that wide row instead).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('open_documents')
    .addColumn('benchmark_id', 'text', (c) => c.primaryKey().references('benchmarks.id').onDelete('cascade'))
    .addColumn('remaining', 'integer', (c) => c.notNull())
    .execute();
  await sql`INSERT INTO open_documents (benchmark_id, remaining)
    SELECT b.id, (SELECT count(*) FROM documents d WHERE d.benchmark_id = b.id AND (d.start_time IS NULL OR d.end_time IS NULL)) FROM benchmarks b`.execute(db);
  await db.schema.dropIndex('documents_unfinished').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX documents_unfinished ON documents (benchmark_id) WHERE start_time IS NULL OR end_time IS NULL`.execute(db);
  await db.schema.dropTable('open_documents').execute();
}
