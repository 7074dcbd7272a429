// The SQLite writer thread: owns the write connection, so the fsync of each group commit waits here, not on the event loop.
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { withStatementCache } from '../../../../db/statement-cache.ts';
import { createBatchWriter, sqliteRunner } from './write-batch.ts';

const port = parentPort!;
const { file } = workerData as { file: string };

const db = new SQLite(file);
// Per-connection settings, as db/database.ts sets them for the main connection.
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 10000');

const runner = sqliteRunner(withStatementCache(db));
// Messages are handled one at a time (the main thread sends the next batch after this one's answer).
const write = createBatchWriter({ dialect: 'sqlite', exclusive: (fn) => fn(runner) });

port.on('message', async (msg: { type: 'write'; id: number; json: string } | { type: 'close' }) => {
  if (msg.type === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    port.postMessage({ id: msg.id, json: JSON.stringify(await write(JSON.parse(msg.json))) });
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ id: msg.id, error: { message: e.message, code: e.code } });
  }
});
port.postMessage({ ready: true });
