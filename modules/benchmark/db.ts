// The benchmark's tables (migrations/), as both engines return them: every role's ctx.db is a Kysely<BenchmarkDB>.
// SQLite integers and Postgres integer and double precision columns all come back as numbers; the counts a query
// makes (bigint on Postgres) are numbers too (db/database.ts parses int8), but Kysely types them wider.
import type { Kysely } from 'kysely';

export type BenchmarkStatus = 'running' | 'completed' | 'failed';

export interface BenchmarksTable {
  id: string;
  name: string;
  benchmark_type: string;
  target_infra: string;
  target_url: string;
  /** Normalised base URL the client calls. */
  target_base: string;
  /** host:port the target names in its callbacks. */
  target_host: string;
  eigen_version: string;
  username: string;
  /** AES-256-GCM of the password, bound to the id; null once the benchmark has ended. */
  password_enc: string | null;
  project_id: string | null;
  /** ISO-8601: when the last upload request was accepted. */
  uploaded_at: string | null;
  status: BenchmarkStatus;
  /** Set once, by whichever of "all documents done", an error or the timeout comes first. */
  closing: 'completed' | 'failed' | null;
  error: string | null;
  /** JSON of the store's `Options`. */
  options: string;
  /** Epoch milliseconds (double precision). */
  deadline_ms: number;
  /** ISO-8601 */
  created_at: string;
  finished_at: string | null;
  /** Epoch milliseconds until which one process is taking the benchmark's target steps (004). */
  step_lease_ms: number | null;
}

export interface DocumentsTable {
  benchmark_id: string;
  position: number;
  name: string;
  size_bytes: number;
  eigen_document_id: string | null;
  /** Epoch seconds as the target sent them (double precision). */
  start_time: number | null;
  end_time: number | null;
}

export interface ReportsTable {
  benchmark_id: string;
  csv: string;
  json: string;
  html: string;
  created_at: string;
}

export interface NotificationsTable {
  benchmark_id: string;
  message_id: string;
  via: string;
  /** Comma-separated addresses. */
  recipients: string;
  sent_at: string;
}

/** Each benchmark's documents still without both times (003). */
export interface OpenDocumentsTable {
  benchmark_id: string;
  remaining: number;
}

/** A row while a report email is unsent (004). */
export interface PendingMailTable {
  benchmark_id: string;
  /** Comma-separated addresses. */
  recipients: string;
  attempts: number;
  /** Epoch milliseconds (double precision). */
  first_attempt_ms: number;
  /** Also the lease of the attempt under way. */
  next_attempt_ms: number;
  last_error: string | null;
  /** Set when the retry window ran out (a dead letter was written); a replay clears it. */
  given_up_at: string | null;
}

export interface BenchmarkDB {
  benchmarks: BenchmarksTable;
  documents: DocumentsTable;
  reports: ReportsTable;
  notifications: NotificationsTable;
  open_documents: OpenDocumentsTable;
  pending_mail: PendingMailTable;
}

export type BenchmarkDatabase = Kysely<BenchmarkDB>;
