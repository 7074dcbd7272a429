// The threads use cases behind the crowdfund.threads facade: pages, writes in one transaction, votes, and threads from proposals.
import { createGroupCommit } from '../../../db/group-commit.ts';
import { z } from 'zod';
import type { Facade } from '../../../kernel/contract.ts';
import { errors } from '../../../kernel/errors.ts';
import { cursorField, NOT_A_CURSOR, nextCursor } from '../../../kernel/http/cursor.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, THREAD_TYPES, type ProjectProposed, type Thread, type threadsContract } from '../contract.ts';
import type { CrowdfundDatabase } from '../db.ts';
import { crowdfundErrors } from '../errors.ts';
import { writeTransaction } from '../../../db/write-transaction.ts';
import type { ThreadStore } from './store.ts';

type Vote = { thread_id: number; up: boolean; voter_id: string };
type Counts = { up_votes: number; down_votes: number };

// The cursor holds the last thread id of the previous page.
const threadCursor = cursorField(z.int().min(1));

function after(cursor: string): number | undefined {
  if (cursor === '') return undefined;
  const parsed = threadCursor.safeParse(cursor);
  if (!parsed.success) throw invalid('cursor', NOT_A_CURSOR);
  return parsed.data;
}

/** ≤ 0 means the default, as proto3 sends an unset limit; larger than the cap is the cap. */
const pageSize = (limit: number) => (limit <= 0 ? DEFAULT_LIMIT : Math.min(limit, MAX_LIMIT));

/** The same VALIDATION_ERROR shape route validation produces (INVALID_ARGUMENT over gRPC). */
function invalid(field: string, message: string) {
  return errors.VALIDATION_ERROR(`Invalid request: ${field}: ${message}`, [{ field, message }]);
}

const threadNotFound = (id: number) => crowdfundErrors.THREAD_NOT_FOUND(`Thread ${id} not found`);
const projectNotFound = (id: number) => crowdfundErrors.PROJECT_NOT_FOUND(`Project ${id} not found`);

export interface ThreadServiceDeps {
  db: CrowdfundDatabase;
  store: ThreadStore;
  now(): Date;
}

export function createThreadService({ db, store, now }: ThreadServiceDeps) {
  /**
   * Votes are tiny writes that arrive in bursts: one transaction (one fsync on SQLite) per batch
   * instead of per vote. Applied in arrival order, each answers the counts right after its own.
   */
  const votes = createGroupCommit<Vote, Counts | undefined>(
    (batch) =>
      writeTransaction(db, async (trx) => {
        const at = now().toISOString();
        const answers: Array<Counts | undefined> = [];
        for (const v of batch)
          answers.push(v.voter_id === '' ? await store.countVote(trx, v.thread_id, v.up) : await store.voterVote(trx, v.thread_id, v.voter_id, v.up, at));
        return answers;
      }),
    { maxBatch: 500 },
  );
  const page = (p: { threads: Thread[]; last?: number }) => ({ threads: p.threads, next_cursor: nextCursor(p.last) ?? '' });

  const facade: Facade<typeof threadsContract> = {
    async getProjectThreads({ project_id, limit = 0, thread_types = [], cursor = '' }) {
      const q = { limit: pageSize(limit), after: after(cursor), types: thread_types };
      const result = await store.projectPage(project_id, q);
      // Only an empty first page needs the extra lookup: a page with threads proves the project exists.
      if (!result.threads.length && !(await store.projectExists(project_id))) throw projectNotFound(project_id);
      return page(result);
    },

    async updateThreads({ project_id, threads }) {
      const at = now().toISOString();
      const ids = await writeTransaction(db, async (trx) => {
        if (!(await store.projectExists(project_id, trx))) throw projectNotFound(project_id);
        const written: number[] = [];
        for (const [i, t] of threads.entries()) {
          const w = { thread_id: 0, project_id: 0, thread_type: 0, parent_thread_id: 0, ...t };
          if (w.project_id && w.project_id !== project_id) throw invalid(`threads.${i}.project_id`, `must be 0 or ${project_id}, the request's project_id`);
          if (w.thread_id) {
            const existing = await store.get(w.thread_id, trx);
            if (!existing || existing.project_id !== project_id) throw threadNotFound(w.thread_id);
            await store.setMessage(trx, w.thread_id, w.message);
            written.push(w.thread_id);
            continue;
          }
          if (w.parent_thread_id) {
            const parent = await store.get(w.parent_thread_id, trx);
            if (!parent) throw threadNotFound(w.parent_thread_id);
            if (parent.project_id !== project_id) throw invalid(`threads.${i}.parent_thread_id`, `thread ${w.parent_thread_id} belongs to another project`);
          }
          written.push(
            await store.insert(trx, { project_id, thread_type: w.thread_type, message: w.message, parent_thread_id: w.parent_thread_id, created_at: at }),
          );
        }
        return written;
      });
      const stored = await Promise.all(ids.map((id) => store.get(id)));
      return { threads: stored.filter((t): t is Thread => t !== undefined) };
    },

    async vote({ thread_id, direction, voter_id = '' }) {
      const counts = await votes.submit({ thread_id, up: direction === 'UP', voter_id });
      if (!counts) throw threadNotFound(thread_id);
      return counts;
    },

    async getSubThreads({ project_id = 0, thread_id, limit = 0, cursor = '' }) {
      const q = { limit: pageSize(limit), after: after(cursor) };
      const parent = await store.get(thread_id);
      if (!parent || (project_id !== 0 && parent.project_id !== project_id)) throw threadNotFound(thread_id);
      return page(await store.repliesPage(thread_id, q));
    },

    async getThread({ thread_id }) {
      const thread = await store.get(thread_id);
      if (!thread) throw threadNotFound(thread_id);
      return thread;
    },

    async countThreads({ project_ids }) {
      return { counts: await store.counts([...new Set(project_ids)]) };
    },
  };

  /** The problems and solutions of a proposal, in `trx`: the kernel's consumer transaction, whose inbox entry makes this happen once. */
  async function applyProposal(trx: CrowdfundDatabase, event: ProjectProposed): Promise<void> {
    const at = now().toISOString();
    const rows = [
      ...event.problems.map((message) => ({ thread_type: THREAD_TYPES.problem, message })),
      ...event.solutions.map((message) => ({ thread_type: THREAD_TYPES.solution, message })),
    ];
    // One statement for all of them: this runs once per proposal, in the consumer's batch.
    await store.insertTopLevel(
      trx,
      rows.map((r) => ({ project_id: event.project_id, created_at: at, ...r })),
    );
  }

  return { facade, applyProposal, stop: () => votes.close() };
}
