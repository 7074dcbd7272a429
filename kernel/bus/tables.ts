// The bus's own tables in every module database (kernel/bus/migrations.ts creates them), typed once: the kernel's
// bus code reads and writes them through `asBusTables`, whatever the module's own tables are.
import type { Generated, Kysely } from 'kysely';

export interface OutboxTable {
  seq: Generated<number>;
  id: string;
  topic: string;
  /** JSON */
  payload: string;
  created_at: string;
  /** The publishing module. */
  source: string;
  /** Epoch milliseconds: a relay owns the row until then; NULL means nobody has claimed it. */
  lease_until: number | null;
  lease_owner: string | null;
  /** W3C trace context as JSON, NULL where the publisher did not trace. */
  trace_context: string | null;
}

export interface InboxTable {
  consumer: string;
  event_id: string;
  handled_at: string;
}

export interface DeadLettersTable {
  id: string;
  consumer: string;
  event_id: string;
  topic: string;
  /** JSON */
  payload: string;
  created_at: string;
  source: string;
  error: string;
  attempts: number;
  failed_at: string;
  trace_context: string | null;
}

export interface BusTables {
  outbox: OutboxTable;
  inbox: InboxTable;
  dead_letters: DeadLettersTable;
}

/** A module's database (or a transaction on it) seen as the bus's tables: every module database has them. */
export const asBusTables = <DB>(db: Kysely<DB>): Kysely<BusTables> => db as unknown as Kysely<BusTables>;
