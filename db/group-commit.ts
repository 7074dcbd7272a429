// Group commit: many callers' writes flushed together, one transaction (and one fsync) per batch.
//
// Why: with synchronous=FULL every commit waits for the disk, so a commit per request caps a
// server at roughly 1/fsync requests per second and, with several writers, invites SQLITE_BUSY.
// Queuing the writes and letting ONE writer commit them in batches keeps every acknowledgement
// durable while the fsync cost is shared by the whole batch. Nothing here knows about SQL: the
// flush function decides how a batch is written (a multi-row INSERT on SQLite and Postgres alike).

export interface GroupCommitOptions {
  /** Most items handed to one flush; the rest wait for the next one. */
  maxBatch: number;
  /** Called after each flush (for metrics); must not throw. */
  onFlush?(info: { size: number; ms: number; error?: unknown }): void;
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
  resolve(value: R): void;
  reject(err: unknown): void;
}

export class GroupCommitClosedError extends Error {
  constructor() {
    super('group commit is closed');
    this.name = 'GroupCommitClosedError';
  }
}

export function createGroupCommit<T, R>(
  flush: (items: T[]) => Promise<R[]>,
  options: GroupCommitOptions,
): GroupCommit<T, R> {
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
    const started = performance.now();
    let error: unknown;
    try {
      const results = await flush(batch.map((e) => e.item));
      if (!Array.isArray(results) || results.length !== batch.length) {
        throw new Error(`group commit flush returned ${Array.isArray(results) ? results.length : typeof results} results for ${batch.length} items`);
      }
      for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
    } catch (err) {
      error = err;
      // Only this batch failed; items queued meanwhile get their own flush.
      for (const e of batch) e.reject(err);
    } finally {
      running = false;
      options.onFlush?.({ size: batch.length, ms: performance.now() - started, error });
      if (queue.length > 0) schedule();
      else if (idleWaiters.length > 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  function drain(): Promise<void> {
    if (!running && !scheduled && queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
  }

  return {
    submit(item: T): Promise<R> {
      if (closed) return Promise.reject(new GroupCommitClosedError());
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
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
