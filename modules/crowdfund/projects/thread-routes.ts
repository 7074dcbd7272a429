// The threads for a browser, which cannot speak gRPC: REST routes of crowdfund.projects that go through the threads facade.
import { z } from 'zod';
import type { Facade } from '../../../kernel/contract.ts';
import { errors } from '../../../kernel/errors.ts';
import { route, type RouteSpec } from '../../../kernel/http/route.ts';
import { MAX_MESSAGE, THREAD_TYPES, type threadsContract } from '../contract.ts';
import { idParams, limitField, MAX_ID, projectNotFound, restThread, threadNotFound, threadPage, threadTypeName, toRest } from './schemas.ts';

const message = z.string({ error: 'missing message' }).min(1, 'must not be empty').max(MAX_MESSAGE, `must be at most ${MAX_MESSAGE} characters`);
// Cursors pass through unchanged: the threads role hands them out and checks them.
const pageQuery = { limit: limitField(20), cursor: z.string().min(1).max(200).optional() };
const votes = z.object({ up_votes: z.number(), down_votes: z.number() });

/**
 * The one thread an UpdateThreads of one thread wrote. The contract answers the threads as stored, but
 * the original proto's UpdateThreadsResponse is empty, and a server that is not ours may answer that:
 * the write may well have happened, so this is 502, not a 500 from indexing nothing.
 */
function written(answer: { threads: Parameters<typeof toRest>[0][] }) {
  const [thread] = answer.threads;
  if (!thread) throw errors.ROLE_INVALID_ANSWER('crowdfund.threads answered UpdateThreads without the thread it wrote; the write may have happened');
  return toRest(thread);
}

export function threadRoutes(threads: Facade<typeof threadsContract>): RouteSpec[] {
  const tags = ['crowdfund: threads'];
  const page = (p: { threads: Parameters<typeof toRest>[0][]; next_cursor: string }) => ({ items: p.threads.map(toRest), next_cursor: p.next_cursor || null });
  return [
    route({
      method: 'get',
      path: '/projects/:id/threads',
      operationId: 'listProjectThreads',
      summary: "A page of a project's top-level threads, oldest first; `type` keeps one kind",
      description: 'Pass `next_cursor` back as `cursor` for the next page; it is null on the last page.',
      tags,
      params: idParams,
      query: z.object({ ...pageQuery, type: threadTypeName.optional() }),
      responses: { 200: { description: 'A page of threads', schema: threadPage } },
      errors: ['PROJECT_NOT_FOUND', 'ROLE_UNAVAILABLE', 'ROLE_INVALID_ANSWER'],
      example: { params: { id: 1 }, query: { limit: 20 } },
      async handler({ params, query }) {
        if (params.id > MAX_ID) throw projectNotFound(params.id);
        const types = query.type ? [THREAD_TYPES[query.type]] : [];
        return { body: page(await threads.getProjectThreads({ project_id: params.id, limit: query.limit, thread_types: types, cursor: query.cursor ?? '' })) };
      },
    }),
    route({
      method: 'post',
      path: '/projects/:id/threads',
      operationId: 'createThread',
      summary: 'Start a thread (or, with parent_thread_id, reply to one of the same project)',
      description: 'The example replies to thread 1, the first problem of project 1.',
      tags,
      params: idParams,
      errors: ['PROJECT_NOT_FOUND', 'THREAD_NOT_FOUND', 'ROLE_UNAVAILABLE', 'ROLE_INVALID_ANSWER'],
      example: { params: { id: 1 }, body: { thread_type: 'comment', message: 'Our school would join.', parent_thread_id: 1 } },
      body: z.strictObject({
        thread_type: threadTypeName,
        message,
        parent_thread_id: z.int().min(1).max(MAX_ID).optional(),
      }),
      responses: { 201: { description: 'The new thread', schema: restThread } },
      async handler({ params, body }) {
        if (params.id > MAX_ID) throw projectNotFound(params.id);
        const answer = await threads.updateThreads({
          project_id: params.id,
          threads: [{ thread_type: THREAD_TYPES[body.thread_type], message: body.message, parent_thread_id: body.parent_thread_id ?? 0 }],
        });
        return { status: 201, body: written(answer) };
      },
    }),
    route({
      method: 'patch',
      path: '/threads/:id',
      operationId: 'updateThread',
      summary: "Replace a thread's message",
      description: 'Votes and replies stay.',
      tags,
      params: idParams,
      body: z.strictObject({ message }),
      responses: { 200: { description: 'The thread as changed', schema: restThread } },
      errors: ['THREAD_NOT_FOUND', 'ROLE_UNAVAILABLE', 'ROLE_INVALID_ANSWER'],
      example: { params: { id: 1 }, body: { message: 'School roofs sit empty all year' } },
      async handler({ params, body }) {
        if (params.id > MAX_ID) throw threadNotFound(params.id);
        const { project_id } = await threads.getThread({ thread_id: params.id });
        return { body: written(await threads.updateThreads({ project_id, threads: [{ thread_id: params.id, message: body.message }] })) };
      },
    }),
    route({
      method: 'get',
      path: '/threads/:id/replies',
      operationId: 'listThreadReplies',
      summary: 'A page of the replies to a thread, oldest first (GetSubThreads)',
      description: 'Pass `next_cursor` back as `cursor` for the next page; it is null on the last page.',
      tags,
      params: idParams,
      query: z.object(pageQuery),
      responses: { 200: { description: 'A page of replies', schema: threadPage } },
      errors: ['THREAD_NOT_FOUND', 'ROLE_UNAVAILABLE', 'ROLE_INVALID_ANSWER'],
      example: { params: { id: 1 }, query: { limit: 20 } },
      async handler({ params, query }) {
        if (params.id > MAX_ID) throw threadNotFound(params.id);
        return { body: page(await threads.getSubThreads({ thread_id: params.id, limit: query.limit, cursor: query.cursor ?? '' })) };
      },
    }),
    route({
      method: 'post',
      path: '/threads/:id/votes',
      operationId: 'voteThread',
      summary: 'Vote a thread up or down; with voter_id one vote per voter (the other direction moves it)',
      description: 'Without voter_id every vote counts.',
      tags,
      params: idParams,
      body: z.strictObject({ direction: z.enum(['up', 'down']), voter_id: z.string().min(1).max(200).optional() }),
      responses: { 200: { description: "The thread's votes after this one", schema: votes } },
      errors: ['THREAD_NOT_FOUND', 'ROLE_UNAVAILABLE', 'ROLE_INVALID_ANSWER'],
      example: { params: { id: 1 }, body: { direction: 'up', voter_id: 'ada' } },
      async handler({ params, body }) {
        if (params.id > MAX_ID) throw threadNotFound(params.id);
        return { body: await threads.vote({ thread_id: params.id, direction: body.direction === 'up' ? 'UP' : 'DOWN', voter_id: body.voter_id ?? '' }) };
      },
    }),
  ];
}
