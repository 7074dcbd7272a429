// The bus tables (outbox, inbox, dead_letters) the kernel adds to every module database, SQLite or Postgres.
import type { Migration } from 'kysely';
import { dialectOf } from '../../db/database.ts';

// SQL stays unqualified: on Postgres the module's schema is the connection's search_path.

const bus: Migration = {
  async up(db) {
    // seq orders delivery; SQLite needs AUTOINCREMENT so a seq is never reused after the rows are deleted.
    const seq =
      dialectOf(db) === 'postgres'
        ? db.schema.createTable('outbox').addColumn('seq', 'bigserial', (c) => c.primaryKey())
        : db.schema.createTable('outbox').addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
    await seq
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      // Epoch milliseconds: a relay owns the row until then; NULL means nobody has claimed it.
      .addColumn('lease_until', 'bigint')
      .addColumn('lease_owner', 'text')
      .execute();

    await db.schema
      .createTable('inbox')
      .addColumn('consumer', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('handled_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('inbox_pk', ['consumer', 'event_id'])
      .execute();
    // Pruning old entries scans by age.
    await db.schema.createIndex('inbox_handled_at').on('inbox').column('handled_at').execute();

    await db.schema
      .createTable('dead_letters')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('consumer', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('error', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('failed_at', 'text', (c) => c.notNull())
      // A redelivered event that fails again updates its row instead of adding a second one.
      .addUniqueConstraint('dead_letters_consumer_event', ['consumer', 'event_id'])
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('dead_letters').ifExists().execute();
    await db.schema.dropTable('inbox').ifExists().execute();
    await db.schema.dropTable('outbox').ifExists().execute();
  },
};

// The W3C trace context of the publishing span (kernel/tracing/), as JSON: the relay, the stream entry and the
// consumer continue its trace, a dead letter's replay links to it. NULL where the publisher did not trace.
const trace: Migration = {
  async up(db) {
    await db.schema.alterTable('outbox').addColumn('trace_context', 'text').execute();
    await db.schema.alterTable('dead_letters').addColumn('trace_context', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('dead_letters').dropColumn('trace_context').execute();
    await db.schema.alterTable('outbox').dropColumn('trace_context').execute();
  },
};

// Named to sort before every module's 001_…: a database migrated before this one runs it later (db/migrator.ts
// allows migrations older than the last one applied).
export const busMigrations: Record<string, Migration> = { '000_kernel_bus': bus, '000_kernel_bus_trace': trace };
