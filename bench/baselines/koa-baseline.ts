// Bare Koa servers to compare against, run as their own process: BASELINE=noop-post | durable-insert | constant-get.
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Koa from 'koa';

const kind = process.env.BASELINE ?? 'noop-post';
const port = Number(process.env.PORT ?? 0);
const constant = process.env.BASELINE_BODY ?? '{"value":"constant"}';
const constantStatus = Number(process.env.BASELINE_STATUS ?? 200);

if (!['noop-post', 'durable-insert', 'constant-get'].includes(kind)) {
  process.stderr.write(`unknown BASELINE "${kind}"; use noop-post, durable-insert or constant-get\n`);
  process.exit(2);
}

// The naive durable write: one autocommitted INSERT per request, WAL + synchronous=FULL like the app's SQLite.
let insert: ((traceId: string | null, path: string, body: string) => void) | undefined;
let countRows: (() => number) | undefined;
let db: Database.Database | undefined;
if (kind === 'durable-insert') {
  const dir = process.env.DATA_DIR ?? 'data';
  mkdirSync(dir, { recursive: true });
  db = new Database(join(dir, 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, trace_id TEXT, path TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL)`);
  const stmt = db.prepare('INSERT INTO events (trace_id, path, body, received_at) VALUES (?, ?, ?, ?)');
  insert = (traceId, path, body) => void stmt.run(traceId, path, body, new Date().toISOString());
  const count = db.prepare('SELECT COUNT(*) AS n FROM events');
  countRows = () => (count.get() as { n: number }).n;
}

async function readJson(req: NodeJS.ReadableStream): Promise<{ text: string; value: unknown }> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return { text, value: text ? JSON.parse(text) : undefined };
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
  let body: { text: string; value: unknown };
  try {
    body = await readJson(ctx.req);
  } catch {
    ctx.status = 400;
    ctx.body = { error: 'BAD_REQUEST', message: 'body is not JSON' };
    return;
  }
  insert?.(ctx.get('x-trace-id') || null, ctx.path, body.text);
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
