// A count of each benchmark's documents still without both times, kept by the callbacks that complete them, in
// place of the partial index of unfinished documents (002): the index had an entry rewritten by every callback
// (each sets a column of its WHERE), the count is one row written per benchmark per group commit.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('benchmarks')
    .addColumn('open_documents', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`UPDATE benchmarks SET open_documents = (
    SELECT count(*) FROM documents d WHERE d.benchmark_id = benchmarks.id AND (d.start_time IS NULL OR d.end_time IS NULL))`.execute(db);
  await db.schema.dropIndex('documents_unfinished').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX documents_unfinished ON documents (benchmark_id) WHERE start_time IS NULL OR end_time IS NULL`.execute(db);
  await db.schema.alterTable('benchmarks').dropColumn('open_documents').execute();
}
