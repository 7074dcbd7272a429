// The write floors (issue 24 part 3), each bare Koa plus the rows its cantons write path leaves, durably, answered
// after the commit: FLOOR=proposal | order | proposal-pg.
//
// proposal: POST /projects/propose → the project (unique name), its tags and one thread per problem and solution,
//   200 {"project_id"} (409 on a taken name), in one SQLite transaction per event-loop turn (synchronous=FULL, WAL).
//   Cantons writes the same rows in its group commit, each proposal in a savepoint of its own and its threads (the
//   threads role's, applied in the same transaction by the bus) in a second, nested one.
// proposal-pg: the same rows in Postgres (DATABASE_URL), each proposal ONE statement (a named prepared CTE) on a
//   pool of 10 as the app's, autocommitted: one round trip and one durable commit, the least a proposal can cost
//   there. Cantons' proposal is a transaction of two modules' statements: three round trips.
// order: POST /orders → the stock taken (an UPDATE that refuses to go below zero), the order and its lines,
//   200 {"id"} (409 when out of stock). Cantons holds the stock first (one transaction), then stores the order and
//   takes the stock (a second, with the order_created consumer applied in it).
import Koa from 'koa';
import pg from 'pg';
import { CROWDFUND_TABLES, groupCommit, openDurable, readBody, serve } from './parts.ts';

const KINDS = ['proposal', 'order', 'proposal-pg'];
const kind = process.env.FLOOR ?? '';
if (!KINDS.includes(kind)) {
  process.stderr.write(`unknown FLOOR "${kind}"; use ${KINDS.join(', ')}\n`);
  process.exit(2);
}

type Answer = { status: number; body: unknown };
let handle: (body: any) => Promise<Answer>;
let close: () => Promise<void> | void;
const invalidProposal = (p: any) => typeof p?.project_name !== 'string' || !Array.isArray(p.problems) || !Array.isArray(p.solutions);
const VALIDATION = { status: 400, body: { error: 'VALIDATION_ERROR', message: 'a proposal needs project_name, problems and solutions' } };
const nameTaken = (name: string) => ({ status: 409, body: { error: 'PROJECT_NAME_TAKEN', message: `A project named "${name}" already exists` } });

/** The SQLite floors' database; the Postgres floor has none. */
const sqlite = () => {
  const db = openDurable('floor.sqlite');
  db.pragma('foreign_keys = ON');
  close = () => void db.close();
  return db;
};

if (kind === 'proposal') {
  const db = sqlite();
  // The crowdfund tables as its migrations leave them (keys, checks and indexes): every index costs each insert.
  db.exec(CROWDFUND_TABLES);
  const project = db.prepare('INSERT INTO projects (project_name, tagline, created_at) VALUES (?, ?, ?) RETURNING id');
  const tag = db.prepare('INSERT INTO tags (project_id, tag) VALUES (?, ?)');
  const thread = db.prepare('INSERT INTO threads (project_id, thread_type, message, created_at) VALUES (?, ?, ?, ?)');
  const commit = groupCommit<any, Answer>(
    db.transaction((items: any[]) =>
      items.map((p) => {
        const at = new Date().toISOString();
        let id: number;
        try {
          id = (project.get(p.project_name, p.tagline, at) as { id: number }).id;
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
          return nameTaken(p.project_name);
        }
        for (const t of new Set<string>(p.tags ?? [])) tag.run(id, t);
        for (const m of p.problems) thread.run(id, 'problem', m, at);
        for (const m of p.solutions) thread.run(id, 'solution', m, at);
        return { status: 200, body: { project_id: id } };
      }),
    ),
  );
  handle = (body) => (invalidProposal(body) ? Promise.resolve(VALIDATION) : commit(body));
} else if (kind === 'proposal-pg') {
  // The crowdfund tables as its Postgres migrations leave them; the threads' type is its enum.
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  // An idle client's lost connection is the pool's to replace: logged, never the floor's crash.
  pool.on('error', (err) => process.stderr.write(`proposal-pg floor: ${err.message}\n`));
  close = () => pool.end();
  await pool.query(`DO $$ BEGIN CREATE TYPE thread_type AS ENUM ('comment', 'solution', 'problem'); EXCEPTION WHEN duplicate_object THEN NULL; END $$;
    ${CROWDFUND_TABLES.replaceAll('INTEGER PRIMARY KEY AUTOINCREMENT', 'SERIAL PRIMARY KEY').replace(/thread_type TEXT NOT NULL CHECK \([^)]*\)\)/, 'thread_type thread_type NOT NULL')}`);
  const text = `WITH p AS (INSERT INTO projects (project_name, tagline, created_at) VALUES ($1, $2, $3) RETURNING id),
      t AS (INSERT INTO tags (project_id, tag) SELECT p.id, tag FROM p, unnest($4::text[]) AS tag),
      th AS (INSERT INTO threads (project_id, thread_type, message, created_at)
        SELECT p.id, x.type::thread_type, x.message, $3 FROM p, unnest($5::text[], $6::text[]) AS x (type, message))
    SELECT id FROM p`;
  handle = async (p) => {
    if (invalidProposal(p)) return VALIDATION;
    const types = [...p.problems.map(() => 'problem'), ...p.solutions.map(() => 'solution')];
    try {
      const values = [p.project_name, p.tagline, new Date().toISOString(), [...new Set<string>(p.tags ?? [])], types, [...p.problems, ...p.solutions]];
      const { rows } = await pool.query({ name: 'propose', text, values });
      return { status: 200, body: { project_id: rows[0].id } };
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      return nameTaken(p.project_name);
    }
  };
} else {
  const db = sqlite();
  db.exec(`CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, title TEXT NOT NULL, in_stock INTEGER NOT NULL CHECK (in_stock >= 0));
    CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS order_details (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
      product_id TEXT NOT NULL, price_cents INTEGER NOT NULL, quantity INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS order_details_order ON order_details (order_id);`);
  const take = db.prepare('UPDATE products SET in_stock = in_stock - ? WHERE id = ? AND in_stock >= ?');
  const order = db.prepare('INSERT INTO orders (created_at) VALUES (?) RETURNING id');
  const line = db.prepare('INSERT INTO order_details (order_id, product_id, price_cents, quantity) VALUES (?, ?, ?, ?)');
  const outOfStock = new Error('out of stock');
  const one = db.transaction((lines: { product_id: string; price: string; quantity: number }[]): Answer => {
    for (const l of lines) if (take.run(l.quantity, l.product_id, l.quantity).changes !== 1) throw outOfStock;
    const id = (order.get(new Date().toISOString()) as { id: number }).id;
    for (const l of lines) line.run(id, l.product_id, Math.round(Number(l.price) * 100), l.quantity);
    return { status: 200, body: { id } };
  });
  const commit = groupCommit<any, Answer>(
    db.transaction((items: any[]) =>
      items.map((lines) => {
        // A nested better-sqlite3 transaction is a savepoint: an order out of stock undoes only its own updates.
        try {
          return one(lines);
        } catch (err) {
          if (err !== outOfStock) throw err;
          return { status: 409, body: { error: 'OUT_OF_STOCK', message: 'out of stock' } };
        }
      }),
    ),
  );
  // The bench's products: FLOOR_PRODUCTS ids "p0"… with FLOOR_STOCK each (as the cantons shop is seeded).
  const seed = db.prepare('INSERT OR IGNORE INTO products (id, title, in_stock) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < Number(process.env.FLOOR_PRODUCTS ?? 10); i++) seed.run(`p${i}`, `product ${i}`, Number(process.env.FLOOR_STOCK ?? 1_000_000_000));
  })();
  handle = (body) => {
    if (!Array.isArray(body?.order_details) || body.order_details.length === 0)
      return Promise.resolve({ status: 400, body: { error: 'VALIDATION_ERROR', message: 'order_details: at least one line' } });
    return commit(body.order_details);
  };
}

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.path === '/readyz' || ctx.path === '/healthz') {
    ctx.body = { status: 'ok' };
    return;
  }
  if (ctx.method !== 'POST') ctx.throw(405);
  const given = await readBody(ctx);
  if (!given) return;
  const { body } = given;
  const answer = await handle(body);
  ctx.status = answer.status;
  ctx.body = answer.body;
});

serve(app, `write floor ${kind}`, () => close());
