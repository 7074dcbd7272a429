// The two statements of every callback (match it, write its time), on SQLite as prepared statements on the connection.
// Why: under load a callback's cost was mostly building these two queries (≈ 400 µs per callback in a batch);
// the statements are the same SQL every time, so SQLite runs them from the statement cache inside the batch's
// Kysely transaction, which holds the connection. Postgres keeps the query builder (store.ts).
import type { CachedSqlite } from '../../../db/statement-cache.ts';
import type { Store } from './store.ts';

export interface Match {
  id: string;
  status: string;
  closing: string | null;
}

export interface CallbackQueries {
  match(trx: unknown, host: string, projectId: string, name: string): Match[] | Promise<Match[]>;
  /** The document's times after the write, or undefined when nothing was unset (a replay). */
  recordTimes(
    trx: unknown,
    id: string,
    name: string,
    docId: string,
    start: number | null,
    end: number | null,
  ): { start_time: number | null; end_time: number | null } | undefined | Promise<{ start_time: number | null; end_time: number | null } | undefined>;
  /** Whether the benchmark still has a document without both times: one probe of the partial index (migration 002). */
  anyUnfinished(trx: unknown, id: string): boolean | Promise<boolean>;
}

const MATCH = `SELECT b.id AS id, b.status AS status, b.closing AS closing
  FROM benchmarks b JOIN documents d ON d.benchmark_id = b.id
  WHERE b.target_host = ? AND b.project_id = ? AND d.name = ?
  ORDER BY b.created_at DESC, b.id DESC`;

// A null time leaves its column alone; the row is touched only when a given time is still unset.
const RECORD = `UPDATE documents SET start_time = coalesce(start_time, @start), end_time = coalesce(end_time, @end), eigen_document_id = @doc
  WHERE benchmark_id = @id AND name = @name AND ((@start IS NOT NULL AND start_time IS NULL) OR (@end IS NOT NULL AND end_time IS NULL))
  RETURNING start_time, end_time`;

// Its WHERE is the partial index's, so SQLite reads the index (migration 002) and stops at the first entry.
const ANY_UNFINISHED = `SELECT 1 AS one FROM documents WHERE benchmark_id = ? AND (start_time IS NULL OR end_time IS NULL) LIMIT 1`;

export function sqliteCallbackQueries(sqlite: CachedSqlite): CallbackQueries {
  return {
    match: (_trx, host, projectId, name) => sqlite.prepare(MATCH).all(host, projectId, name) as Match[],
    recordTimes: (_trx, id, name, docId, start, end) =>
      sqlite.prepare(RECORD).get({ start, end, doc: docId, id, name }) as { start_time: number | null; end_time: number | null } | undefined,
    anyUnfinished: (_trx, id) => sqlite.prepare(ANY_UNFINISHED).get(id) !== undefined,
  };
}

export function kyselyCallbackQueries(store: Store, lock: boolean): CallbackQueries {
  return {
    match: (trx, host, projectId, name) => store.match(trx as never, host, projectId, name, lock),
    recordTimes: (trx, id, name, docId, start, end) => store.recordTimes(trx as never, id, name, docId, start, end),
    anyUnfinished: (trx, id) => store.anyUnfinished(trx as never, id),
  };
}
