// The projects use cases: atomic proposals (project, tags and project_proposed in one transaction), pages, tags, threads via the facade.
import { createHash } from 'node:crypto';
import type { Publisher } from '../../../kernel/bus/types.ts';
import type { Facade } from '../../../kernel/contract.ts';
import { AppError } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { PROJECT_PROPOSED, type ProjectProposed, type ThreadCounts, type ThreadPage, type threadsContract } from '../contract.ts';
import type { CrowdfundDatabase } from '../db.ts';
import { crowdfundErrors } from '../errors.ts';
import { writeTransaction } from '../../../db/write-transaction.ts';
import { isUniqueViolation } from '../sql.ts';
import type { Project, ProjectStore } from './store.ts';

export interface Proposal {
  project_name: string;
  tagline: string;
  tags: string[];
  problems: string[];
  solutions: string[];
}

export interface ProjectServiceDeps {
  db: CrowdfundDatabase;
  store: ProjectStore;
  threads: Facade<typeof threadsContract>;
  bus: Pick<Publisher, 'publish'>;
  log: Logger;
  now(): Date;
  maxTags: number;
  idempotencyTtlMs: number;
}

/** Why a page or a project is served without threads: the threads role failed, however it failed. */
export interface ThreadsUnavailable {
  error: string;
  message: string;
}

/**
 * Any failure of the threads facade — no answer (ROLE_UNAVAILABLE), an answer outside the contract
 * (ROLE_INVALID_ANSWER), its database down, a bug there — serves what projects has and says why the
 * rest is missing: the documented degradation of these reads. A role in another process that does not
 * answer is logged once by its transport (the circuit opening), not once per request; anything else
 * here, and a bug (not an AppError) at error level.
 */
function threadsFailed(err: unknown, log: Logger, context: object): ThreadsUnavailable {
  if (!(err instanceof AppError)) {
    log.error({ err, ...context }, 'threads failed; serving without them');
    return { error: 'UNEXPECTED_ERROR', message: 'crowdfund.threads failed' };
  }
  if (err.code === 'ROLE_UNAVAILABLE') log.debug({ ...context, reason: err.message }, 'threads unavailable; serving without them');
  else log.warn({ ...context, code: err.code, reason: err.message }, 'threads failed; serving without them');
  return { error: err.code, message: err.message };
}

const hashOf = (p: Proposal) =>
  createHash('sha256')
    .update(JSON.stringify([p.project_name, p.tagline, p.tags, p.problems, p.solutions]))
    .digest('hex');

export function createProjectService(deps: ProjectServiceDeps) {
  const { db, store, threads, bus, log, now } = deps;
  const nameTaken = (name: string) => crowdfundErrors.PROJECT_NAME_TAKEN(`A project named "${name}" already exists`);

  /** The first answer for `key`, or undefined when the key is new (or expired); another proposal under it is refused. */
  async function replay(key: string, hash: string): Promise<number | undefined> {
    const found = await store.findKey(key);
    if (!found || Date.parse(found.created_at) < now().getTime() - deps.idempotencyTtlMs) return undefined;
    if (found.request_hash !== hash) throw crowdfundErrors.IDEMPOTENCY_KEY_REUSED('This Idempotency-Key was sent before with a different proposal');
    return found.project_id;
  }

  return {
    async propose(p: Proposal, key?: string): Promise<number> {
      // The request's hash only where an Idempotency-Key needs it: a SHA-256 of the whole proposal costs µs.
      const idempotent = key ? { key, hash: hashOf(p) } : undefined;
      if (idempotent) {
        const first = await replay(idempotent.key, idempotent.hash);
        if (first !== undefined) return first;
      }
      const at = now();
      try {
        return await writeTransaction(db, async (trx) => {
          const id = await store.insert(trx, { project_name: p.project_name, tagline: p.tagline, tags: p.tags, created_at: at.toISOString() });
          if (idempotent) {
            const expiredBefore = new Date(at.getTime() - deps.idempotencyTtlMs).toISOString();
            await store.saveKey(trx, idempotent.key, idempotent.hash, id, at.toISOString(), expiredBefore);
          }
          // Threads makes the problem and solution threads from this event: committed with the project, or not at all.
          const event: ProjectProposed = { project_id: id, problems: p.problems, solutions: p.solutions };
          await bus.publish(trx, PROJECT_PROPOSED, event);
          return id;
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // A retry racing its first attempt waits on the name (or key) and then finds the first one committed.
        const first = idempotent ? await replay(idempotent.key, idempotent.hash) : undefined;
        if (first !== undefined) return first;
        throw nameTaken(p.project_name);
      }
    },

    async get(
      id: number,
      threadsLimit: number,
    ): Promise<
      (Project & { threads: ThreadPage['threads'] | null; threads_next_cursor: string | null; threads_unavailable?: ThreadsUnavailable }) | undefined
    > {
      const project = await store.get(id);
      if (!project) return undefined;
      try {
        const page = await threads.getProjectThreads({ project_id: id, limit: threadsLimit });
        return { ...project, threads: page.threads, threads_next_cursor: page.next_cursor || null };
      } catch (err) {
        return { ...project, threads: null, threads_next_cursor: null, threads_unavailable: threadsFailed(err, log, { project: id }) };
      }
    },

    async list(q: { limit: number; before?: number; tag?: string }) {
      const page = await store.list(q);
      let counts: Map<number, ThreadCounts> | undefined;
      let why: ThreadsUnavailable | undefined;
      try {
        const answer = page.items.length ? (await threads.countThreads({ project_ids: page.items.map((p) => p.project_id) })).counts : [];
        counts = new Map(answer.map((c) => [c.project_id, c]));
      } catch (err) {
        why = threadsFailed(err, log, { projects: page.items.length });
      }
      const items = page.items.map((p) => {
        const c = counts?.get(p.project_id);
        return { ...p, thread_counts: counts ? { problem: c?.problem ?? 0, solution: c?.solution ?? 0, comment: c?.comment ?? 0 } : null };
      });
      return { items, last: page.last, threads_unavailable: why };
    },

    async changeTags(id: number, add: string[], remove: string[]): Promise<string[] | undefined> {
      return writeTransaction(db, async (trx) => {
        const tags = await store.changeTags(trx, id, add, remove);
        if (tags && tags.length > deps.maxTags) {
          throw crowdfundErrors.TOO_MANY_TAGS(`Project ${id} would have ${tags.length} tags; at most ${deps.maxTags}`);
        }
        return tags;
      });
    },

    async exists(id: number): Promise<boolean> {
      return (await store.get(id)) !== undefined;
    },
  };
}

export type ProjectService = ReturnType<typeof createProjectService>;
