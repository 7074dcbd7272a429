// The statements of every callback (match it, write its time, count its benchmark's documents down), on SQLite as
// prepared statements on the connection. Why: under load a callback's cost was mostly building these queries
// (≈ 400 µs per callback in a batch); the statements are the same SQL every time, so they are prepared once, held,
// and run inside the batch's Kysely transaction, which holds the connection. Postgres keeps the query builder
// (store.ts).
import type { Statement } from 'better-sqlite3';
import type { CachedSqlite } from '../../../db/statement-cache.ts';
import type { Store } from './store.ts';

export interface Match {
  id: string;
  status: string;
  closing: string | null;
  /** The document's times as the match read them. */
  start_time: number | null;
  end_time: number | null;
  /** SQLite: the document's rowid, which the write goes by. */
  rowid?: number;
}

type MatchRow = [id: string, status: string, closing: string | null, start_time: number | null, end_time: number | null, rowid: number];

export type Times = { start_time: number | null; end_time: number | null };

export interface CallbackQueries {
  match(trx: unknown, host: string, projectId: string, name: string): Match[] | Promise<Match[]>;
  /** Writes the times `doc` (a match) does not have yet: its times after the write, or undefined when it had them all (a replay). */
  recordTimes(trx: unknown, doc: Match, name: string, docId: string, start: number | null, end: number | null): Times | undefined | Promise<Times | undefined>;
  /** Counts `n` more of the benchmark's documents as done; how many it has left without both times. */
  closeDocuments(trx: unknown, id: string, n: number): number | Promise<number>;
}

// Its columns in MatchRow's order.
const MATCH = `SELECT b.id, b.status, b.closing, d.start_time, d.end_time, d.rowid
  FROM benchmarks b JOIN documents d ON d.benchmark_id = b.id
  WHERE b.target_host = ? AND b.project_id = ? AND d.name = ?
  ORDER BY b.created_at DESC, b.id DESC`;

const RECORD = 'UPDATE documents SET start_time = ?, end_time = ?, eigen_document_id = ? WHERE rowid = ?';

const CLOSE = 'UPDATE open_documents SET remaining = remaining - ? WHERE benchmark_id = ? RETURNING remaining';

/**
 * The match's times are current when the write runs: the batch is one transaction on the module's one connection, and
 * SQLite has one writer (another process's commit in between fails the write with SQLITE_BUSY_SNAPSHOT, the batch
 * with it). So a replay is known from the match, with no write, and a write needs no guard or RETURNING.
 * The statements are prepared on first use (after the migrations) and held; the match returns rows as arrays.
 */
export function sqliteCallbackQueries(sqlite: CachedSqlite): CallbackQueries {
  let prepared: { match: Statement; record: Statement; close: Statement } | undefined;
  const statements = () => (prepared ??= { match: sqlite.prepare(MATCH).raw(true), record: sqlite.prepare(RECORD), close: sqlite.prepare(CLOSE).pluck() });
  return {
    match(_trx, host, projectId, name) {
      const rows = statements().match.all(host, projectId, name) as MatchRow[];
      return rows.map(([id, status, closing, start_time, end_time, rowid]) => ({ id, status, closing, start_time, end_time, rowid }));
    },
    recordTimes(_trx, doc, _name, docId, start, end) {
      const times = { start_time: doc.start_time ?? start, end_time: doc.end_time ?? end };
      if (times.start_time === doc.start_time && times.end_time === doc.end_time) return undefined;
      statements().record.run(times.start_time, times.end_time, docId, doc.rowid);
      return times;
    },
    closeDocuments: (_trx, id, n) => statements().close.get(n, id) as number,
  };
}

/** Postgres: the match locks the benchmark, not the document, so the write guards itself (store.recordTimes). */
export function kyselyCallbackQueries(store: Store, lock: boolean): CallbackQueries {
  return {
    match: (trx, host, projectId, name) => store.match(trx as never, host, projectId, name, lock),
    recordTimes: (trx, doc, name, docId, start, end) => store.recordTimes(trx as never, doc.id, name, docId, start, end),
    closeDocuments: (trx, id, n) => store.closeDocuments(trx as never, id, n),
  };
}
