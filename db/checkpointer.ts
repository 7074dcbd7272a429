// Copies a SQLite file's WAL back into the database from a worker thread, so the event loop never does it.
//
// Why: with WAL, the commit that pushes the log past wal_autocheckpoint pages copies every page back and
// fsyncs the database file itself, on the thread that committed. On the events write path that was one
// commit every ≈ 10 s holding the event loop for 0.3–2 s: every request in flight waited, and a load
// generator that waits on each connection (wrk) saw a p99 of 0.3–1 s against a p50 of 15 ms
// (docs/benchmarks.md, "The tail"). A PASSIVE checkpoint on a second connection takes no writer lock:
// commits go on while it copies, and the log restarts from its beginning once it has been copied. The
// write connection keeps its own autocheckpoint as the backstop, should this thread fall behind.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints: often enough that the log stays far below the backstop. */
const EVERY_MS = 250;

// Plain JavaScript, evaluated in the worker: nothing to compile, the same from source and from dist/.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage(String(err && err.message));
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker after its current checkpoint and closes its connection. */
  stop(): Promise<void>;
}

/** `onError`: a checkpoint that failed (the next one retries; the write connection's backstop remains). */
export function startCheckpointer(file: string, onError: (message: string) => void): Checkpointer {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3'), everyMs: EVERY_MS },
  });
  worker.unref();
  worker.on('message', onError);
  worker.on('error', (err) => onError(err.message));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // Unreferenced, it would not keep the process up long enough to finish and say so.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
