// What every bare baseline server shares (koa-baseline.ts, write-floors.ts): the durable database, the least group
// commit, the app's body reader and the server's start and stop — so that the floors differ only in their rows.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type Koa from 'koa';
import type { AppError } from '../../kernel/errors.ts';
import { readJsonBody } from '../../kernel/http/body.ts';

const BODY_LIMIT = 1024 * 1024; // the app's default BODY_LIMIT

/** `file` under DATA_DIR: WAL, every commit fsynced (synchronous=FULL), as the app opens its databases. */
export function openDurable(file: string): Database.Database {
  const dir = process.env.DATA_DIR ?? 'data';
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, file));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Crowdfund's projects, tags and threads as its migrations leave them on SQLite (keys, checks, indexes): the proposal and vote floors' tables. */
export const CROWDFUND_TABLES = `CREATE TABLE IF NOT EXISTS projects (id INTEGER PRIMARY KEY AUTOINCREMENT, project_name TEXT NOT NULL UNIQUE, tagline TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS tags (project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE, tag TEXT NOT NULL, PRIMARY KEY (project_id, tag));
    CREATE INDEX IF NOT EXISTS tags_by_tag ON tags (tag, project_id);
    CREATE TABLE IF NOT EXISTS threads (id INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      thread_type TEXT NOT NULL CHECK (thread_type IN ('comment', 'solution', 'problem')), message TEXT NOT NULL, created_at TEXT NOT NULL,
      up_votes INTEGER NOT NULL DEFAULT 0, down_votes INTEGER NOT NULL DEFAULT 0, parent_thread_id INTEGER NOT NULL DEFAULT 0, reply_count INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX IF NOT EXISTS threads_by_project ON threads (project_id, id);
    CREATE INDEX IF NOT EXISTS threads_by_parent ON threads (parent_thread_id, id);
    CREATE INDEX IF NOT EXISTS threads_by_project_parent ON threads (project_id, parent_thread_id, id);`;

/** Items that arrive in one event-loop turn share one `commit` (a transaction); each is answered with its result after it. */
export function groupCommit<T, R = undefined>(commit: (items: T[]) => R[] | undefined): (item: T) => Promise<R> {
  let batch: { item: T; done(err: unknown, result?: R): void }[] = [];
  const flush = () => {
    const items = batch;
    batch = [];
    try {
      const results = commit(items.map((r) => r.item));
      for (const [i, r] of items.entries()) r.done(undefined, results?.[i]);
    } catch (err) {
      for (const r of items) r.done(err);
    }
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      if (batch.length === 0) setImmediate(flush);
      batch.push({ item, done: (err, result) => (err ? reject(err) : resolve(result as R)) });
    });
}

/**
 * The body as the app reads it (stream events, size limit, JSON.parse), so a floor pays what the app pays; undefined
 * when it was refused, with the 4xx already answered.
 */
export async function readBody(ctx: Koa.Context): Promise<{ body: unknown } | undefined> {
  try {
    return { body: await readJsonBody(ctx, BODY_LIMIT) };
  } catch (err) {
    const e = err as AppError;
    ctx.status = e.status ?? 400;
    ctx.body = { error: e.code ?? 'BAD_REQUEST', message: e.message };
    return undefined;
  }
}

/** Listens on PORT (127.0.0.1) and says so; SIGTERM or SIGINT closes it, then `close`, then exits. */
export function serve(app: Koa, what: string, close: () => void): void {
  const server = createServer(app.callback());
  server.keepAliveTimeout = 65_000; // as the app's server, so both keep the bench's sockets alike
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    process.stdout.write(`${what} listening on ${JSON.stringify(server.address())}\n`);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      server.close(() => {
        close();
        process.exit(0);
      });
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
  }
}
