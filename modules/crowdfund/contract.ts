// The crowdfund module's public surface: the crowdfund.threads contract (also threads.proto) and the project_proposed event.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defineContract, defineTopic, method } from '../../kernel/contract.ts';

/** The proto's ThreadType values; thread_type stays an int32 on the wire, as in the original. */
export const THREAD_TYPES = { comment: 0, solution: 1, problem: 2 } as const;
export type ThreadTypeName = keyof typeof THREAD_TYPES;
export const THREAD_TYPE_NAMES = ['comment', 'solution', 'problem'] as const satisfies readonly ThreadTypeName[];

export const MAX_MESSAGE = 10_000;
export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

/** uint64 ids as JS numbers: safe integers (every id a database hands out here is far below 2^53). */
const id = z.int().min(1, 'must be a positive id');
/** The same where 0 means "none", as proto3 sends an unset field. */
const idOrZero = z.int().min(0);
const threadType = z.int().refine((t) => t >= 0 && t <= 2, 'unknown thread type; use 0 (COMMENT), 1 (SOLUTION) or 2 (PROBLEM)');
/** ≤ 0: the default page size; above MAX_LIMIT: capped (the service applies both). */
const limit = z.int().min(-2_147_483_648).max(2_147_483_647).default(0);
const cursor = z.string().max(200).default('').describe('next_cursor of the previous page; empty for the first');

export const threadSchema = z.object({
  thread_id: id,
  project_id: id,
  thread_type: z.int().min(0).max(2),
  message: z.string(),
  created_at: z.string().describe('ISO-8601 UTC; a google.protobuf.Timestamp on the wire'),
  up_votes: z.int().min(0),
  down_votes: z.int().min(0),
  parent_thread_id: idOrZero.describe('0 for a top-level thread'),
  reply_count: z.int().min(0),
});
export type Thread = z.infer<typeof threadSchema>;

/** One thread to write: thread_id 0 inserts, a set thread_id replaces that thread's message. */
export const threadWriteSchema = z.object({
  thread_id: idOrZero.default(0),
  project_id: idOrZero.default(0).describe("0, or the request's project_id"),
  thread_type: threadType.default(THREAD_TYPES.comment),
  message: z.string().min(1, 'must not be empty').max(MAX_MESSAGE, `must be at most ${MAX_MESSAGE} characters`),
  parent_thread_id: idOrZero.default(0).describe('a thread of the same project this one replies to; 0 for none'),
});
export type ThreadWrite = z.input<typeof threadWriteSchema>;

const page = z.object({ threads: z.array(threadSchema), next_cursor: z.string().describe('empty on the last page') });
export type ThreadPage = z.infer<typeof page>;

const counts = z.object({ project_id: id, problem: z.int().min(0), solution: z.int().min(0), comment: z.int().min(0) });
export type ThreadCounts = z.infer<typeof counts>;

export const threadsContract = defineContract(
  'crowdfund.threads',
  {
    getProjectThreads: method({
      summary: "A page of a project's top-level threads, oldest first, optionally of some types only",
      input: z.object({ project_id: id, limit, thread_types: z.array(threadType).max(3).default([]), cursor }),
      output: page,
      idempotent: true,
    }),
    updateThreads: method({
      summary: 'Inserts (thread_id 0) or rewrites threads of one project, all in one transaction; answers them as stored',
      input: z.object({ project_id: id, threads: z.array(threadWriteSchema).min(1, 'name at least one thread').max(MAX_LIMIT) }),
      output: z.object({ threads: z.array(threadSchema) }),
      // Not idempotent: a retried insert would insert again.
    }),
    vote: method({
      summary: 'Counts a vote; with voter_id, one vote per voter per thread (the other direction moves it)',
      input: z.object({
        thread_id: id,
        direction: z.enum(['UP', 'DOWN'], { error: 'must be UP or DOWN' }),
        voter_id: z.string().max(200).default('').describe('empty: every call counts'),
      }),
      output: z.object({ up_votes: z.int().min(0), down_votes: z.int().min(0) }),
      // Not idempotent: without voter_id a retry after a lost answer would count twice.
    }),
    getSubThreads: method({
      summary: 'A page of the replies to a thread, oldest first',
      input: z.object({ project_id: idOrZero.default(0).describe("0: the thread's own project"), thread_id: id, limit, cursor }),
      output: page,
      idempotent: true,
    }),
    getThread: method({
      summary: 'One thread with its votes and reply count',
      input: z.object({ thread_id: id }),
      output: threadSchema,
      idempotent: true,
    }),
    countThreads: method({
      summary: 'Threads per type of each project named (projects without threads count zeros)',
      input: z.object({ project_ids: z.array(id).max(MAX_LIMIT) }),
      output: z.object({ counts: z.array(counts) }),
      idempotent: true,
    }),
  },
  { proto: { file: fileURLToPath(new URL('./threads.proto', import.meta.url)), service: 'ThreadsService' } },
);

export const projectProposedSchema = z.object({
  project_id: id,
  problems: z.array(z.string().min(1)).min(1),
  solutions: z.array(z.string().min(1)).min(1),
});
export type ProjectProposed = z.infer<typeof projectProposedSchema>;
/** Published by crowdfund.projects in the proposal's transaction; crowdfund.threads turns it into threads, once. */
export const PROJECT_PROPOSED = defineTopic('crowdfund.project_proposed', projectProposedSchema);
