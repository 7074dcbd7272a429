// Bare Koa servers to compare against, run as their own process: BASELINE=noop-post | durable-insert | group-commit | callback-floor | constant-get | read-floor.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Koa from 'koa';
import { groupCommit, openDurable, readBody, serve } from './parts.ts';

const KINDS = ['noop-post', 'durable-insert', 'group-commit', 'callback-floor', 'constant-get', 'read-floor'];

const kind = process.env.BASELINE ?? 'noop-post';
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

if (kind === 'durable-insert' || kind === 'group-commit') {
  db = openDurable('baseline.sqlite');
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

// callback-floor: the least a benchmark callback must do, in a bare handler: find the running benchmark that
// has the document (by target host, project and name, newest first) and write its time once, both inside a
// transaction per event-loop turn, answered after the commit (202, or 409 when nothing matches). Seeded as
// the bench seeds cantons: FLOOR_BENCHMARKS projects p0… on host "floor", FLOOR_DOCUMENTS documents each.
type Callback = { host: string; project: string; name: string; start: number | null; end: number | null };
let callback: ((c: Callback) => Promise<number>) | undefined;
if (kind === 'callback-floor') {
  db = openDurable('baseline.sqlite');
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

// read-floor: the least a parameterised read must do — its query as one prepared better-sqlite3 statement (the order:
// one per role it reads) on the database cantons seeded (DATA_DIR/<module>.sqlite), answering the JSON cantons
// answers, path parameters and query read by hand. READ_FLOOR names the read (READS below).
interface Read {
  file: string;
  path: RegExp;
  sql: string;
  answer(stmt: Database.Statement, m: RegExpExecArray, ctx: Koa.Context): { status: number; body: unknown };
}
const notFound = { status: 404, body: { error: 'NOT_FOUND', message: 'not found' } };
const EVENT = 'SELECT idx, trace_id, device_id, resort_id, depth, timestamp, date_created FROM snow_reports';
type EventRow = { idx: number; trace_id: string; device_id: string; resort_id: string; depth: number; timestamp: string; date_created: string };
const snowReport = (r: EventRow) => ({
  trace_id: r.trace_id,
  index: r.idx,
  device_id: r.device_id,
  resort_id: r.resort_id,
  depth: r.depth,
  timestamp: r.timestamp,
  date_created: r.date_created,
});
const cents = (c: number) => `${Math.trunc(c / 100)}.${String(c % 100).padStart(2, '0')}`;
const READS: Record<string, Read> = {
  product: {
    file: 'shop.sqlite',
    path: /^\/products\/([^/]+)$/,
    sql: 'SELECT id, title, passenger_capacity, maximum_speed, in_stock FROM products WHERE id = ?',
    answer: (stmt, m) => {
      const row = stmt.get(decodeURIComponent(m[1]));
      return row ? { status: 200, body: row } : notFound;
    },
  },
  // As the shop's two roles read it: the order with its lines in one statement, then their products by id in
  // another (products are another role's, in a store that may be Redis or another process: no join crosses them).
  order: {
    file: 'shop.sqlite',
    path: /^\/orders\/(\d+)$/,
    sql: `SELECT o.created_at, d.id AS line, d.product_id, d.price_cents, d.quantity
      FROM orders o LEFT JOIN order_details d ON d.order_id = o.id WHERE o.id = ? ORDER BY d.id`,
    answer: (stmt, m, ctx) => {
      const id = Number(m[1]);
      const rows = stmt.all(id) as Record<string, any>[];
      if (!rows.length) return notFound;
      const ids = [...new Set(rows.map((r) => r.product_id as string))];
      const products = new Map<string, unknown>((productsById(ids).all(...ids) as { id: string }[]).map((p) => [p.id, p]));
      const images = `${ctx.protocol}://${ctx.host}/images`;
      return {
        status: 200,
        body: {
          id,
          created_at: rows[0].created_at,
          order_details: rows.map((r) => ({
            id: r.line,
            product_id: r.product_id,
            price: cents(r.price_cents),
            quantity: r.quantity,
            image: `${images}/${r.product_id}.jpg`,
            product: products.get(r.product_id) ?? null,
          })),
        },
      };
    },
  },
  'event-at': {
    file: 'events.sqlite',
    path: /^\/events\/snow-reports\/at\/(\d+)$/,
    sql: `${EVENT} WHERE idx = ?`,
    answer: (stmt, m) => {
      const row = stmt.get(Number(m[1])) as EventRow | undefined;
      return row ? { status: 200, body: snowReport(row) } : notFound;
    },
  },
  // A page of a time range, with the cursor of its last row when more follow.
  'event-list': {
    file: 'events.sqlite',
    path: /^\/events\/snow-reports$/,
    sql: `${EVENT} WHERE date_created >= ? AND date_created < ? ORDER BY date_created, idx LIMIT ?`,
    answer: (stmt, _m, ctx) => {
      const start = new Date(String(ctx.query.start_timestamp)).toISOString();
      const end = new Date(String(ctx.query.end_timestamp)).toISOString();
      const limit = Number(ctx.query.limit ?? 100);
      const rows = stmt.all(start, end, limit + 1) as EventRow[];
      const items = rows.slice(0, limit).map(snowReport);
      const last = items[items.length - 1];
      const next_cursor = rows.length > limit ? Buffer.from(JSON.stringify(['snow_report', last.date_created, last.index])).toString('base64url') : null;
      return { status: 200, body: { items, next_cursor } };
    },
  },
};
let read: { spec: Read; stmt: Database.Statement } | undefined;
// The order's second statement, prepared once per number of distinct products.
const byCount = new Map<number, Database.Statement>();
const productsById = (ids: string[]) => {
  let stmt = byCount.get(ids.length);
  if (!stmt)
    byCount.set(
      ids.length,
      (stmt = db!.prepare(`SELECT id, title, passenger_capacity, maximum_speed, in_stock FROM products WHERE id IN (${ids.map(() => '?').join(', ')})`)),
    );
  return stmt;
};
if (kind === 'read-floor') {
  const spec = READS[process.env.READ_FLOOR ?? ''];
  if (!spec) {
    process.stderr.write(`unknown READ_FLOOR "${process.env.READ_FLOOR}"; use ${Object.keys(READS).join(', ')}\n`);
    process.exit(2);
  }
  db = new Database(join(process.env.DATA_DIR ?? 'data', spec.file), { fileMustExist: true });
  read = { spec, stmt: db.prepare(spec.sql) };
}

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.path === '/readyz' || ctx.path === '/healthz') {
    ctx.body = { status: 'ok' };
    return;
  }
  if (read) {
    const m = ctx.method === 'GET' ? read.spec.path.exec(ctx.path) : null;
    if (!m) return void (ctx.status = 404);
    const { status, body } = read.spec.answer(read.stmt, m, ctx);
    ctx.status = status;
    ctx.body = body;
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
  // The app's own reader, so the no-op pays what the app pays.
  const given = await readBody(ctx);
  if (!given) return;
  const { body } = given;
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

serve(app, `baseline ${kind}`, () => db?.close());
