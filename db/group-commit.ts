// Group commit: many callers' writes flushed together, one transaction (and one fsync) per batch.
//
// Why: with synchronous=FULL every commit waits for the disk, so a commit per request caps a
// server at roughly 1/fsync requests per second and, with several writers, invites SQLITE_BUSY.
// Queuing the writes and letting ONE writer commit them in batches keeps every acknowledgement
// durable while the fsync cost is shared by the whole batch. Nothing here knows about SQL: the
// flush function decides how a batch is written (a multi-row INSERT on SQLite and Postgres alike).
//
// One bad item must not fail everyone else's: a batch is one transaction, so a single row the
// database refuses (a constraint, an encoding error) rolls back the whole batch. A failed batch of
// several items is therefore split in halves and each half flushed again, down to the item at
// fault, which alone gets the error; every other item is answered after a commit that holds it.
// A poison item costs about 2·log2(batch) extra flushes. `isolate` lets the caller say which
// errors cannot be an item's fault (the database is gone): those fail the batch at once.

import { dbTracing, inSpan } from './trace-hooks.ts';

export interface GroupCommitOptions {
  /** Most items handed to one flush; the rest wait for the next one. */
  maxBatch: number;
  /**
   * Whether a failed flush of several items may have failed because of one of them, and so is
   * retried in halves to find it. Default: unless `databaseUnavailable(err)` — an outage fails a
   * batch once instead of 2n − 1 times.
   */
  isolate?(err: unknown): boolean;
  /** Called after each flush (for metrics); must not throw. `split`: the failed items are being retried in halves. */
  onFlush?(info: { size: number; ms: number; error?: unknown; split?: boolean }): void;
}

export interface GroupCommit<T, R> {
  /** Queues `item`; resolves with its result once the flush that carried it has committed. */
  submit(item: T): Promise<R>;
  /** Resolves once every item submitted so far has been flushed (or rejected). */
  drain(): Promise<void>;
  /** Drains, then rejects every later submit. */
  close(): Promise<void>;
  /** Items waiting for a flush (not counting the one running). */
  readonly queued: number;
  readonly closed: boolean;
}

interface Entry<T, R> {
  item: T;
  /** The submitter's trace context (db/trace-hooks.ts): the span of the batch that carries the item links to it. */
  trace: unknown;
  resolve(value: R): void;
  reject(err: unknown): void;
}

// Errors that say the database is out of reach rather than that it refused one row: Postgres
// connection (08), resources (53) and operator-intervention (57) classes; network errors; SQLite's
// busy, I/O, full-disk, read-only and corruption results; a closed connection or pool.
const UNAVAILABLE_SQLSTATE = /^(08|53|57)[0-9A-Z]{3}$/;
const UNAVAILABLE_CODE =
  /^(ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|NOMEM|CORRUPT|NOTADB|PROTOCOL))/;
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection is closed|database connection is not open|timeout exceeded when trying to connect|Cannot use a pool after calling end/i;

/** True when `err` says the database as a whole is unavailable (no single item can have caused it). */
export function databaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_CODE.test(code)) return true;
  return UNAVAILABLE_MESSAGE.test(typeof e?.message === 'string' ? e.message : '');
}

export class GroupCommitClosedError extends Error {
  constructor() {
    super('group commit is closed');
    this.name = 'GroupCommitClosedError';
  }
}

export function createGroupCommit<T, R>(flush: (items: T[]) => Promise<R[]>, options: GroupCommitOptions): GroupCommit<T, R> {
  const maxBatch = Math.floor(options.maxBatch);
  if (!(maxBatch >= 1)) throw new Error(`maxBatch must be at least 1, got ${options.maxBatch}`);
  let queue: Entry<T, R>[] = [];
  let running = false;
  let scheduled = false;
  let closed = false;
  let idleWaiters: (() => void)[] = [];

  // setImmediate rather than a microtask: it runs after the event loop has read every socket that
  // is ready, so all requests that arrived together join the same batch. On SQLite (synchronous
  // driver) that is the only moment more requests can arrive; on Postgres they also queue while
  // a flush awaits the server.
  function schedule(): void {
    if (running || scheduled || queue.length === 0) return;
    scheduled = true;
    setImmediate(run);
  }

  async function run(): Promise<void> {
    scheduled = false;
    running = true;
    let batch: Entry<T, R>[];
    if (queue.length <= maxBatch) {
      batch = queue;
      queue = [];
    } else {
      batch = queue.slice(0, maxBatch);
      queue = queue.slice(maxBatch);
    }
    try {
      await settle(batch);
    } finally {
      running = false;
      if (queue.length > 0) schedule();
      else if (idleWaiters.length > 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** Flushes `batch`; on failure retries its halves (see the top of the file) until each item has its own answer. */
  async function settle(batch: Entry<T, R>[]): Promise<void> {
    const started = performance.now();
    let results: R[];
    try {
      // One span per flush, of its own trace, linked to every request in the batch (a batch has no single parent).
      results = await inSpan(
        'group commit',
        () => flush(batch.map((e) => e.item)),
        batch.map((e) => e.trace),
      );
      if (!Array.isArray(results) || results.length !== batch.length) {
        throw new Error(`group commit flush returned ${Array.isArray(results) ? results.length : typeof results} results for ${batch.length} items`);
      }
    } catch (err) {
      const split = batch.length > 1 && (options.isolate ? options.isolate(err) : !databaseUnavailable(err));
      options.onFlush?.({ size: batch.length, ms: performance.now() - started, error: err, split });
      if (!split) {
        for (const e of batch) e.reject(err);
        return;
      }
      // In order, so items keep their arrival order across the retries.
      const mid = batch.length >> 1;
      await settle(batch.slice(0, mid));
      await settle(batch.slice(mid));
      return;
    }
    options.onFlush?.({ size: batch.length, ms: performance.now() - started });
    for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
  }

  function drain(): Promise<void> {
    if (!running && !scheduled && queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
  }

  return {
    submit(item: T): Promise<R> {
      if (closed) return Promise.reject(new GroupCommitClosedError());
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, trace: dbTracing.hooks?.capture(), resolve, reject });
        schedule();
      });
    },
    drain,
    async close() {
      closed = true;
      await drain();
    },
    get queued() {
      return queue.length;
    },
    get closed() {
      return closed;
    },
  };
}
