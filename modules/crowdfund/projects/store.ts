// Projects, their tags and idempotency keys in the crowdfund database; pages newest first by id.
import type { Selectable } from 'kysely';
import { dialectOf } from '../../../db/database.ts';
import { markers, sqlText, textPerCount } from '../../../db/read.ts';
import type { CachedSqlite } from '../../../db/statement-cache.ts';
import type { CrowdfundDatabase, ProjectsTable } from '../db.ts';

export interface Project {
  project_id: number;
  project_name: string;
  tagline: string;
  tags: string[];
  created_at: string;
}

export interface NewProject {
  project_name: string;
  tagline: string;
  tags: string[];
  created_at: string;
}

/** A proposal's writes, as SQL text (db/read.ts): every POST /projects/propose runs them. */
const INSERT_PROJECT = `insert into "projects" ("project_name", "tagline", "created_at") values (?, ?, ?) returning "id"`;
const INSERT_TAGS = textPerCount((n) => `insert into "tags" ("project_id", "tag") values ${markers(n, '(?, ?)')}`);
/** Postgres: the project and its tags (an array) in one statement, one round trip fewer. */
const INSERT_PROJECT_AND_TAGS = `with p as (${INSERT_PROJECT}),
  t as (insert into "tags" ("project_id", "tag") select p."id", tag from p, unnest(?::text[]) as tag)
  select "id" from p`;

/** `sqlite`: the role's ctx.sqlite (SQLite only), on which a proposal's writes run without the query builder. */
export function createProjectStore(db: CrowdfundDatabase, sqlite?: CachedSqlite) {
  const pg = dialectOf(db) === 'postgres';
  const text = sqlText(db, sqlite);

  async function tagsOf(ids: number[], trx: CrowdfundDatabase = db): Promise<Map<number, string[]>> {
    const byProject = new Map<number, string[]>(ids.map((id) => [id, []]));
    if (!ids.length) return byProject;
    const rows = await trx.selectFrom('tags').select(['project_id', 'tag']).where('project_id', 'in', ids).orderBy('project_id').orderBy('tag').execute();
    for (const r of rows) byProject.get(r.project_id)?.push(r.tag);
    return byProject;
  }

  const toProject = (r: Selectable<ProjectsTable>, tags: string[]): Project => ({
    project_id: r.id,
    project_name: r.project_name,
    tagline: r.tagline,
    tags,
    created_at: r.created_at,
  });

  return {
    /** In `trx`, the caller's transaction (which also holds the outbox row); a taken name throws the engine's unique violation. */
    async insert(trx: CrowdfundDatabase, p: NewProject): Promise<number> {
      if (pg) return (await text.all<{ id: number }>(trx, INSERT_PROJECT_AND_TAGS, [p.project_name, p.tagline, p.created_at, p.tags]))[0].id;
      const [{ id }] = await text.all<{ id: number }>(trx, INSERT_PROJECT, [p.project_name, p.tagline, p.created_at]);
      if (p.tags.length)
        await text.run(
          trx,
          INSERT_TAGS(p.tags.length),
          p.tags.flatMap((tag) => [id, tag]),
        );
      return id;
    },

    async get(id: number): Promise<Project | undefined> {
      const row = await db.selectFrom('projects').select(['id', 'project_name', 'tagline', 'created_at']).where('id', '=', id).executeTakeFirst();
      return row && toProject(row, (await tagsOf([id])).get(id)!);
    },

    async list(q: { limit: number; before?: number; tag?: string }): Promise<{ items: Project[]; last?: number }> {
      let query = db.selectFrom('projects').select(['id', 'project_name', 'tagline', 'created_at']);
      if (q.tag !== undefined) query = query.where('id', 'in', db.selectFrom('tags').select('project_id').where('tag', '=', q.tag));
      if (q.before !== undefined) query = query.where('id', '<', q.before);
      const rows = await query
        .orderBy('id', 'desc')
        .limit(q.limit + 1)
        .execute();
      const page = rows.slice(0, q.limit);
      const tags = await tagsOf(page.map((r) => r.id));
      const items = page.map((r) => toProject(r, tags.get(r.id)!));
      return { items, last: rows.length > q.limit ? items[items.length - 1].project_id : undefined };
    },

    /**
     * Adds and removes in `trx` (a write transaction) after locking the project row, so concurrent
     * changes of one project apply one after the other; undefined when the project does not exist.
     */
    async changeTags(trx: CrowdfundDatabase, id: number, add: string[], remove: string[]): Promise<string[] | undefined> {
      let lock = trx.selectFrom('projects').select('id').where('id', '=', id);
      if (pg) lock = lock.forUpdate();
      if (!(await lock.executeTakeFirst())) return undefined;
      if (remove.length) await trx.deleteFrom('tags').where('project_id', '=', id).where('tag', 'in', remove).execute();
      if (add.length) {
        await trx
          .insertInto('tags')
          .values(add.map((tag) => ({ project_id: id, tag })))
          .onConflict((oc) => oc.columns(['project_id', 'tag']).doNothing())
          .execute();
      }
      return (await tagsOf([id], trx)).get(id)!;
    },

    async findKey(key: string): Promise<{ request_hash: string; project_id: number; created_at: string } | undefined> {
      const row = await db.selectFrom('idempotency_keys').select(['request_hash', 'project_id', 'created_at']).where('key', '=', key).executeTakeFirst();
      return row && { request_hash: row.request_hash, project_id: row.project_id, created_at: row.created_at };
    },

    /** Forgets keys older than `before` (their retries would now create a project). */
    async pruneKeys(before: string): Promise<number> {
      return Number((await db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst()).numDeletedRows);
    },

    /** Records the key in `trx`, replacing an expired record of it (older than `expiredBefore`). */
    async saveKey(trx: CrowdfundDatabase, key: string, request_hash: string, project_id: number, created_at: string, expiredBefore: string): Promise<void> {
      await trx.deleteFrom('idempotency_keys').where('key', '=', key).where('created_at', '<', expiredBefore).execute();
      await trx.insertInto('idempotency_keys').values({ key, request_hash, project_id, created_at }).execute();
    },
  };
}

export type ProjectStore = ReturnType<typeof createProjectStore>;
