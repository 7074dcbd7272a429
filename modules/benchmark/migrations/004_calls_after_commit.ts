// The calls to the outside happen after the commit (docs/decisions/0014): a lease on a benchmark's target steps, so one
// process at a time takes them, and the report emails still to send, with their retries.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Epoch ms until which one process is taking the benchmark's target steps (login, project, upload).
  await db.schema.alterTable('benchmarks').addColumn('step_lease_ms', 'double precision').execute();
  // A row while the email is unsent: the notifications row is written once it is sent.
  await db.schema
    .createTable('pending_mail')
    .addColumn('benchmark_id', 'text', (c) => c.primaryKey().references('benchmarks.id').onDelete('cascade'))
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('first_attempt_ms', 'double precision', (c) => c.notNull())
    // Also the lease of the attempt under way: a sender moves it past the attempt's end before sending.
    .addColumn('next_attempt_ms', 'double precision', (c) => c.notNull())
    .addColumn('last_error', 'text')
    // Set when the retry window ran out (a dead letter was written); a replay clears it.
    .addColumn('given_up_at', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('pending_mail').execute();
  await db.schema.alterTable('benchmarks').dropColumn('step_lease_ms').execute();
}
