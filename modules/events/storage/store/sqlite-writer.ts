// The main-thread side of the SQLite writer thread: hands each group commit to the worker and awaits its commit.
//
// Why a thread: better-sqlite3 is synchronous, so on the main thread every commit's fsync
// (synchronous=FULL) freezes the event loop and no request can be read meanwhile. In the thread,
// the loop keeps accepting requests during the fsync and they form the next batch: the fsync
// overlaps with HTTP work instead of adding to it. Reads stay on the main connection (WAL readers
// never block the writer).
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import type { Logger } from '../../../../kernel/logger.ts';
import type { EventsDatabase } from '../../db.ts';
import type { BatchWriter } from './write-batch.ts';

export interface SqliteWriter {
  write: BatchWriter;
  /** True once the thread has opened the database. */
  ready(): boolean;
  close(): Promise<void>;
}

interface Pending {
  resolve(results: unknown): void;
  reject(err: Error): void;
}

/** The SQLite file behind `db` (the thread opens its own connection to it), or undefined for an in-memory database. */
export async function sqliteFile(db: EventsDatabase): Promise<string | undefined> {
  const { rows } = await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(db);
  return rows[0]?.file || undefined;
}

/**
 * Compiled (dist/, npm run build) the worker is plain JavaScript next to this file. From source it is
 * TypeScript: register tsx inside it (workers do not inherit --import hooks).
 */
function spawnWorker(file: string): Worker {
  if (import.meta.url.endsWith('.js')) return new Worker(new URL('./sqlite-writer-worker.js', import.meta.url), { workerData: { file } });
  const entry = new URL('./sqlite-writer-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(source, { eval: true, workerData: { file } });
}

export function startSqliteWriter(file: string, log: Logger): SqliteWriter {
  let worker: Worker | undefined;
  let isReady = false;
  let closing = false;
  let nextId = 0;
  const pending = new Map<number, Pending>();

  function failAll(err: Error): void {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  }

  function start(): Worker {
    const w = spawnWorker(file);
    w.on('message', (msg: { ready?: true; id?: number; json?: string; error?: { message: string; code?: string } }) => {
      if (msg.ready) {
        isReady = true;
        return;
      }
      const p = pending.get(msg.id!);
      if (!p) return;
      pending.delete(msg.id!);
      if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
      else p.resolve(JSON.parse(msg.json!));
    });
    w.on('error', (err) => {
      log.error({ err }, 'events writer thread failed');
      failAll(new Error(`events writer thread failed: ${err.message}`));
    });
    w.on('exit', (code) => {
      if (worker !== w) return;
      worker = undefined;
      isReady = false;
      failAll(new Error(`events writer thread exited with code ${code}`));
      // Replaced at once (not on the next write): /readyz waits for it, so no write would ever come.
      if (!closing) {
        log.error({ code }, 'events writer thread exited; starting a new one');
        setTimeout(() => {
          if (!closing && !worker) worker = start();
        }, 200);
      }
    });
    return w;
  }

  worker = start();

  return {
    write(items) {
      // A batch the dead thread held was rejected whole (its transaction never committed).
      if (closing) return Promise.reject(new Error('events writer thread is closed'));
      const w = (worker ??= start());
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as Pending['resolve'], reject });
        // One JSON string rather than an object graph: structured cloning objects costs the event
        // loop several times more than JSON.stringify, and parsing happens on the writer's thread.
        w.postMessage({ type: 'write', id, json: JSON.stringify(items) });
      });
    },
    ready: () => isReady,
    async close() {
      closing = true;
      const w = worker;
      worker = undefined;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'close' });
      const timer = setTimeout(() => void w.terminate(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
