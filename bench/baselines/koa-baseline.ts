// Bare Koa servers to compare against, run as their own process: BASELINE=noop-post | durable-insert | group-commit | constant-get.
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Koa from 'koa';
import type { AppError } from '../../kernel/errors.ts';
import { readJsonBody } from '../../kernel/http/body.ts';

const KINDS = ['noop-post', 'durable-insert', 'group-commit', 'constant-get'];
const BODY_LIMIT = 1024 * 1024; // the app's default BODY_LIMIT

const kind = process.env.BASELINE ?? 'noop-post';
const port = Number(process.env.PORT ?? 0);
const constant = process.env.BASELINE_BODY ?? '{"value":"constant"}';
const constantStatus = Number(process.env.BASELINE_STATUS ?? 200);

if (!KINDS.includes(kind)) {
  process.stderr.write(`unknown BASELINE "${kind}"; use ${KINDS.join(', ')}\n`);
  process.exit(2);
}

type Row = [traceId: string | null, path: string, body: string, receivedAt: string];
let insert: ((row: Row) => void | Promise<void>) | undefined;
let countRows: (() => number) | undefined;
let db: Database.Database | undefined;
if (kind === 'durable-insert' || kind === 'group-commit') {
  const dir = process.env.DATA_DIR ?? 'data';
  mkdirSync(dir, { recursive: true });
  db = new Database(join(dir, 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // group-commit keeps a unique trace id like the app's events tables (what idempotent retries need);
  // durable-insert is the original's table as it was.
  db.exec(`CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, trace_id TEXT${kind === 'group-commit' ? ' UNIQUE' : ''}, path TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL)`);
  const stmt = db.prepare('INSERT INTO events (trace_id, path, body, received_at) VALUES (?, ?, ?, ?)');
  const count = db.prepare('SELECT COUNT(*) AS n FROM events');
  countRows = () => (count.get() as { n: number }).n;
  // durable-insert: the original's approach, one autocommitted INSERT (and so one fsync) per request.
  // group-commit: the least that batches — rows that arrive in one event-loop turn share one
  // transaction, and each request is answered after its commit (one fsync per batch).
  insert =
    kind === 'durable-insert'
      ? (row) => void stmt.run(...row)
      : groupCommit(
          db.transaction((rows: Row[]) => {
            for (const r of rows) stmt.run(...r);
          }),
        );
}

function groupCommit(commit: (rows: Row[]) => void): (row: Row) => Promise<void> {
  let batch: { row: Row; done(err?: unknown): void }[] = [];
  const flush = () => {
    const rows = batch;
    batch = [];
    try {
      commit(rows.map((r) => r.row));
      for (const r of rows) r.done();
    } catch (err) {
      for (const r of rows) r.done(err);
    }
  };
  return (row) =>
    new Promise<void>((resolve, reject) => {
      if (batch.length === 0) setImmediate(flush);
      batch.push({ row, done: (err) => (err ? reject(err) : resolve()) });
    });
}

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.path === '/readyz' || ctx.path === '/healthz') {
    ctx.body = { status: 'ok' };
    return;
  }
  if (ctx.path === '/_baseline/count' && countRows) {
    ctx.body = { rows: countRows() };
    return;
  }
  if (kind === 'constant-get') {
    if (ctx.method !== 'GET') ctx.throw(405);
    ctx.status = constantStatus;
    ctx.type = 'application/json';
    ctx.body = constant;
    return;
  }
  if (ctx.method !== 'POST') ctx.throw(405);
  // The app's own reader (stream events, size limit, JSON.parse), so the no-op pays what the app pays.
  let body: unknown;
  try {
    body = await readJsonBody(ctx, BODY_LIMIT);
  } catch (err) {
    const e = err as AppError;
    ctx.status = e.status ?? 400;
    ctx.body = { error: e.code ?? 'BAD_REQUEST', message: e.message };
    return;
  }
  if (insert) await insert([ctx.get('x-trace-id') || null, ctx.path, JSON.stringify(body), new Date().toISOString()]);
  ctx.status = 201;
  ctx.body = { ok: true };
});

const server = createServer(app.callback());
server.keepAliveTimeout = 65_000; // as the app's server, so both keep the bench's sockets alike
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`baseline ${kind} listening on ${JSON.stringify(server.address())}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => {
      db?.close();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2000).unref();
  });
}
