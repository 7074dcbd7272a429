// Bare Koa servers to compare against, run as their own process: BASELINE=noop-post | durable-insert | group-commit | callback-floor | constant-get.
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Koa from 'koa';
import type { AppError } from '../../kernel/errors.ts';
import { readJsonBody } from '../../kernel/http/body.ts';

const KINDS = ['noop-post', 'durable-insert', 'group-commit', 'callback-floor', 'constant-get'];
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
let insert: ((row: Row) => undefined | Promise<undefined>) | undefined;
let countRows: (() => number) | undefined;
let db: Database.Database | undefined;

/** The durable baselines' database under DATA_DIR: WAL, every commit fsynced (synchronous=FULL). */
function openDurable(): Database.Database {
  const dir = process.env.DATA_DIR ?? 'data';
  mkdirSync(dir, { recursive: true });
  const opened = new Database(join(dir, 'baseline.sqlite'));
  opened.pragma('journal_mode = WAL');
  opened.pragma('synchronous = FULL');
  opened.pragma('busy_timeout = 5000');
  return opened;
}

if (kind === 'durable-insert' || kind === 'group-commit') {
  db = openDurable();
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
            return undefined;
          }),
        );
}

/** Items that arrive in one event-loop turn share one `commit` (a transaction); each is answered with its result after it. */
function groupCommit<T, R = undefined>(commit: (items: T[]) => R[] | undefined): (item: T) => Promise<R> {
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

// callback-floor: the least a benchmark callback must do, in a bare handler: find the running benchmark that
// has the document (by target host, project and name, newest first) and write its time once, both inside a
// transaction per event-loop turn, answered after the commit (202, or 409 when nothing matches). Seeded as
// the bench seeds cantons: FLOOR_BENCHMARKS projects p0… on host "floor", FLOOR_DOCUMENTS documents each.
type Callback = { host: string; project: string; name: string; start: number | null; end: number | null };
let callback: ((c: Callback) => Promise<number>) | undefined;
if (kind === 'callback-floor') {
  db = openDurable();
  db.exec(`CREATE TABLE IF NOT EXISTS benchmarks (id TEXT PRIMARY KEY, target_host TEXT NOT NULL, project_id TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS benchmarks_match ON benchmarks (target_host, project_id, created_at);
    CREATE TABLE IF NOT EXISTS documents (benchmark_id TEXT NOT NULL, name TEXT NOT NULL, start_time REAL, end_time REAL, PRIMARY KEY (benchmark_id, name));`);
  const documents = Number(process.env.FLOOR_DOCUMENTS ?? 1000);
  const width = String(documents).length;
  db.transaction(() => {
    const bench = db!.prepare('INSERT OR IGNORE INTO benchmarks VALUES (?, ?, ?, ?, ?)');
    const doc = db!.prepare('INSERT OR IGNORE INTO documents (benchmark_id, name) VALUES (?, ?)');
    for (let b = 0; b < Number(process.env.FLOOR_BENCHMARKS ?? 20); b++) {
      bench.run(`b${b}`, 'floor', `p${b}`, 'running', new Date().toISOString());
      for (let d = 1; d <= documents; d++) doc.run(`b${b}`, `doc${String(d).padStart(width, '0')}.txt`);
    }
  })();
  const match = db.prepare(`SELECT b.id FROM benchmarks b JOIN documents d ON d.benchmark_id = b.id
    WHERE b.target_host = ? AND b.project_id = ? AND d.name = ? AND b.status = 'running' ORDER BY b.created_at DESC LIMIT 1`);
  const record = db.prepare(`UPDATE documents SET start_time = coalesce(start_time, ?), end_time = coalesce(end_time, ?)
    WHERE benchmark_id = ? AND name = ?`);
  callback = groupCommit<Callback, number>(
    db.transaction((items: Callback[]) =>
      items.map((c) => {
        const row = match.get(c.host, c.project, c.name) as { id: string } | undefined;
        if (!row) return 409;
        record.run(c.start, c.end, row.id, c.name);
        return 202;
      }),
    ),
  );
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
  if (callback) {
    const b = body as Record<string, unknown>;
    ctx.status = await callback({
      host: String(b.benchmark_host_name),
      project: String(b.eigen_project_id),
      name: String(b.document_name),
      start: typeof b.start_time === 'number' ? b.start_time : null,
      end: typeof b.end_time === 'number' ? b.end_time : null,
    });
    ctx.body = { ok: ctx.status === 202 };
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
