// Threads and votes in the crowdfund database: pages by (project, parent, id), vote counts updated in the row itself.
import type { Selectable } from 'kysely';
import { dialectOf } from '../../../db/database.ts';
import { markers, sqlText, textPerCount } from '../../../db/read.ts';
import type { CachedSqlite } from '../../../db/statement-cache.ts';
import { THREAD_TYPE_NAMES, THREAD_TYPES, type Thread, type ThreadCounts, type ThreadTypeName } from '../contract.ts';
import type { CrowdfundDatabase, ThreadsTable } from '../db.ts';

const COLUMNS = ['id', 'project_id', 'thread_type', 'message', 'created_at', 'up_votes', 'down_votes', 'parent_thread_id', 'reply_count'] as const;

function toThread(r: Selectable<ThreadsTable>): Thread {
  return {
    thread_id: r.id,
    project_id: r.project_id,
    thread_type: THREAD_TYPES[r.thread_type],
    message: r.message,
    created_at: r.created_at,
    up_votes: r.up_votes,
    down_votes: r.down_votes,
    parent_thread_id: r.parent_thread_id,
    reply_count: r.reply_count,
  };
}

export interface NewThread {
  project_id: number;
  thread_type: number;
  message: string;
  parent_thread_id: number;
  created_at: string;
}

export interface PageQuery {
  limit: number;
  after?: number;
  types?: number[];
}

/** Column order of the SQLite fast path's rows (arrays); the same columns as COLUMNS. */
function fromRaw(r: unknown[]): Thread {
  return {
    thread_id: r[0] as number,
    project_id: r[1] as number,
    thread_type: THREAD_TYPES[r[2] as ThreadTypeName],
    message: r[3] as string,
    created_at: r[4] as string,
    up_votes: r[5] as number,
    down_votes: r[6] as number,
    parent_thread_id: r[7] as number,
    reply_count: r[8] as number,
  };
}

// The comment keeps the text apart from anything Kysely prepares: this cached statement is switched to raw rows.
const PROJECT_PAGE_SQL = `/* crowdfund project page */ select ${COLUMNS.join(', ')} from threads where project_id = ? and parent_thread_id = 0 and id > ? order by id limit ?`;

/** What the SQLite page cache may hold: characters of messages (plus 100 a thread); past it the oldest pages go. ≈ 16 MB of strings at most. */
export const PAGE_CACHE_CHARS = 8_000_000;

type Page = { threads: Thread[]; last?: number };
type Cached = { page: Page; weight: number };

/** A vote without a voter, as SQL text (db/read.ts): every such Vote runs one. */
const VOTE_UP = `update "threads" set "up_votes" = "up_votes" + 1 where "id" = ? returning "up_votes", "down_votes"`;
const VOTE_DOWN = `update "threads" set "down_votes" = "down_votes" + 1 where "id" = ? returning "up_votes", "down_votes"`;
/** Top-level threads (no parent, no votes, no replies yet), one text per count. */
const INSERT_TOP_LEVEL = textPerCount(
  (n) =>
    `insert into "threads" ("project_id", "thread_type", "message", "created_at", "parent_thread_id", "up_votes", "down_votes", "reply_count") values ${markers(n, '(?, ?, ?, ?, 0, 0, 0, 0)')}`,
);

/**
 * `sqlite` (the better-sqlite3 connection under `db`, SQLite only) serves a project's pages of every
 * type straight from one cached statement in raw mode: GetProjectThreads is the hot read, and
 * Kysely's builder plus row objects were half of its database time (≈ 45 of 85 µs for 20 threads).
 *
 * Those pages are also cached, and a cached page is served only while the database is provably
 * unchanged since it was read — whichever process changed it: the version is this connection's
 * `total_changes()` (every row this connection wrote, committed or not) with `PRAGMA data_version`
 * (moves whenever another connection — another process sharing the file — commits). Both are read
 * before the page, synchronously, so a page is never tagged newer than what it holds; any change
 * anywhere drops every page (a vote changes counts inside them). Postgres has no such cheap and
 * exact check (another threads process may commit at any moment), so there every read goes to the
 * database: a cache there could only be "eventually" right. Pages are frozen: callers share them.
 */
export function createThreadStore(db: CrowdfundDatabase, sqlite?: CachedSqlite) {
  const pg = dialectOf(db) === 'postgres';
  const text = sqlText(db, sqlite);
  const cache = sqlite && pageCache(sqlite);

  async function page(where: { project_id?: number; parent_thread_id: number }, q: PageQuery): Promise<Page> {
    if (cache && where.project_id !== undefined && where.parent_thread_id === 0 && !q.types?.length) {
      const project = where.project_id;
      // Outside a transaction this connection holds, nothing uncommitted is visible and nothing can
      // interleave with a synchronous read: answer now. Inside one, wait for it as every query does.
      if (!cache.inTransaction()) return cache.read(project, q);
      return db.connection().execute(async () => cache.read(project, q));
    }
    let query = db.selectFrom('threads').select(COLUMNS).where('parent_thread_id', '=', where.parent_thread_id);
    if (where.project_id !== undefined) query = query.where('project_id', '=', where.project_id);
    if (q.types?.length)
      query = query.where(
        'thread_type',
        'in',
        q.types.map((t) => THREAD_TYPE_NAMES[t]),
      );
    if (q.after !== undefined) query = query.where('id', '>', q.after);
    const rows = await query
      .orderBy('id')
      .limit(q.limit + 1)
      .execute();
    const threads = rows.slice(0, q.limit).map(toThread);
    return { threads, last: rows.length > q.limit ? threads[threads.length - 1].thread_id : undefined };
  }

  return {
    /** Top-level threads of a project (parent 0), oldest first. */
    projectPage: (project_id: number, q: PageQuery) => page({ project_id, parent_thread_id: 0 }, q),

    /** Replies to a thread, oldest first. */
    repliesPage: (thread_id: number, q: PageQuery) => page({ parent_thread_id: thread_id }, q),

    async get(id: number, trx: CrowdfundDatabase = db): Promise<Thread | undefined> {
      const row = await trx.selectFrom('threads').select(COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && toThread(row);
    },

    async projectExists(id: number, trx: CrowdfundDatabase = db): Promise<boolean> {
      return Boolean(await trx.selectFrom('projects').select('id').where('id', '=', id).executeTakeFirst());
    },

    /** Inserts in `trx` (the caller's transaction), bumping the parent's reply count; returns the new id. */
    async insert(trx: CrowdfundDatabase, t: NewThread): Promise<number> {
      const row = await trx
        .insertInto('threads')
        .values({ ...t, thread_type: THREAD_TYPE_NAMES[t.thread_type], up_votes: 0, down_votes: 0, reply_count: 0 })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (t.parent_thread_id) {
        await trx
          .updateTable('threads')
          .set((eb) => ({ reply_count: eb('reply_count', '+', 1) }))
          .where('id', '=', t.parent_thread_id)
          .execute();
      }
      return row.id;
    },

    /** Top-level threads of one project in one statement (a proposal's problems and solutions), in `trx`. */
    async insertTopLevel(trx: CrowdfundDatabase, rows: Array<Omit<NewThread, 'parent_thread_id'>>): Promise<void> {
      if (!rows.length) return;
      // As SQL text (db/read.ts): a proposal's threads, written on every POST /projects/propose.
      const params: unknown[] = [];
      for (const t of rows) params.push(t.project_id, THREAD_TYPE_NAMES[t.thread_type], t.message, t.created_at);
      await text.run(trx, INSERT_TOP_LEVEL(rows.length), params);
    },

    async setMessage(trx: CrowdfundDatabase, id: number, message: string): Promise<void> {
      await trx.updateTable('threads').set({ message }).where('id', '=', id).execute();
    },

    async counts(projectIds: number[]): Promise<ThreadCounts[]> {
      const byProject = new Map(projectIds.map((id) => [id, { project_id: id, problem: 0, solution: 0, comment: 0 }]));
      if (!projectIds.length) return [];
      const rows = await db
        .selectFrom('threads')
        .select(['project_id', 'thread_type', (eb) => eb.fn.countAll().as('n')])
        .where('project_id', 'in', [...byProject.keys()])
        .groupBy(['project_id', 'thread_type'])
        .execute();
      // COUNT(*) is typed string | number | bigint: Postgres' bigint (a number here only by db/'s int8 parser).
      for (const r of rows) byProject.get(r.project_id)![r.thread_type] = Number(r.n);
      return [...byProject.values()];
    },

    /** Every call counts: one atomic increment in `trx`, exact however many run at once. */
    async countVote(trx: CrowdfundDatabase, thread_id: number, up: boolean): Promise<{ up_votes: number; down_votes: number } | undefined> {
      const [row] = await text.all<{ up_votes: number; down_votes: number }>(trx, up ? VOTE_UP : VOTE_DOWN, [thread_id]);
      return row;
    },

    /**
     * One vote per voter, in `trx` (a write transaction): the thread row is locked first, so two
     * votes of one voter cannot both see "no vote yet"; the same direction again changes nothing.
     */
    async voterVote(
      trx: CrowdfundDatabase,
      thread_id: number,
      voter_id: string,
      up: boolean,
      at: string,
    ): Promise<{ up_votes: number; down_votes: number } | undefined> {
      let lock = trx.selectFrom('threads').select(['up_votes', 'down_votes']).where('id', '=', thread_id);
      if (pg) lock = lock.forUpdate();
      const thread = await lock.executeTakeFirst();
      if (!thread) return undefined;
      const direction = up ? 'up' : 'down';
      const previous = await trx.selectFrom('votes').select('direction').where('thread_id', '=', thread_id).where('voter_id', '=', voter_id).executeTakeFirst();
      if (previous?.direction === direction) return { up_votes: thread.up_votes, down_votes: thread.down_votes };
      if (previous)
        await trx.updateTable('votes').set({ direction, voted_at: at }).where('thread_id', '=', thread_id).where('voter_id', '=', voter_id).execute();
      else await trx.insertInto('votes').values({ thread_id, voter_id, direction, voted_at: at }).execute();
      const [plus, minus] = up ? (['up_votes', 'down_votes'] as const) : (['down_votes', 'up_votes'] as const);
      const row = await trx
        .updateTable('threads')
        .set((eb) => (previous ? { [plus]: eb(plus, '+', 1), [minus]: eb(minus, '-', 1) } : { [plus]: eb(plus, '+', 1) }))
        .where('id', '=', thread_id)
        .returning(['up_votes', 'down_votes'])
        .executeTakeFirstOrThrow();
      return row;
    },
  };
}

export type ThreadStore = ReturnType<typeof createThreadStore>;

/** The SQLite page cache (see createThreadStore): synchronous reads, to be called outside any open transaction of the connection. */
function pageCache(sqlite: CachedSqlite) {
  const pages = new Map<string, Cached>();
  let held = 0;
  let changes = -1;
  let dataVersion = -1;
  let statement: ReturnType<CachedSqlite['prepare']> | undefined;
  const dataVersionNow = sqlite.prepare('pragma data_version').pluck(true);
  const changesNow = sqlite.prepare('select total_changes()').pluck(true);
  return {
    inTransaction: () => dataVersionNow.database.inTransaction,
    read(project: number, q: PageQuery): Page {
      const c = changesNow.get() as number;
      const v = dataVersionNow.get() as number;
      if (c !== changes || v !== dataVersion) {
        pages.clear();
        held = 0;
        changes = c;
        dataVersion = v;
      }
      const key = `${project} ${q.after ?? 0} ${q.limit}`;
      const cached = pages.get(key);
      if (cached) return cached.page;
      statement ??= sqlite.prepare(PROJECT_PAGE_SQL).raw(true);
      const rows = statement.all(project, q.after ?? 0, q.limit + 1) as unknown[][];
      const threads = rows.slice(0, q.limit).map((r) => Object.freeze(fromRaw(r)));
      const page: Page = Object.freeze({
        threads: Object.freeze(threads) as Thread[],
        last: rows.length > q.limit ? threads[threads.length - 1].thread_id : undefined,
      });
      const weight = threads.reduce((n, t) => n + t.message.length + 100, 100);
      for (const [oldest, entry] of pages) {
        if (held + weight <= PAGE_CACHE_CHARS) break;
        pages.delete(oldest);
        held -= entry.weight;
      }
      if (weight <= PAGE_CACHE_CHARS) {
        pages.set(key, { page, weight });
        held += weight;
      }
      return page;
    },
  };
}
