// HTTP routes of crowdfund.projects: the original's POST /projects/propose, plus list, detail and tags.
import { z } from 'zod';
import { errors } from '../../../kernel/errors.ts';
import { nextCursor } from '../../../kernel/http/cursor.ts';
import { route, type RouteSpec } from '../../../kernel/http/route.ts';
import { MAX_MESSAGE } from '../contract.ts';
import { idCursor, idParams, limitField, MAX_ID, projectNotFound, projectSchema, restThread, threadsUnavailable, toRest } from './schemas.ts';
import type { ProjectService } from './service.ts';

// The messages the original front end showed: "missing project name", "missing tagline", …
const text = (missing: string, max: number) => z.string({ error: missing }).trim().min(1, missing).max(max, `must be at most ${max} characters`);
const tag = z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').max(50, 'must be at most 50 characters');
const messages = (missing: string) => z.array(text(missing, MAX_MESSAGE), { error: missing }).min(1, missing).max(100, 'at most 100');
const unique = (tags: string[]) => [...new Set(tags)];

const proposeBody = z.strictObject({
  project_name: text('missing project name', 80),
  tagline: text('missing tagline', 255),
  tags: z.array(tag).max(20, 'at most 20 tags').default([]).transform(unique),
  problems: messages('missing problems'),
  solutions: messages('missing solutions'),
});

const tagsBody = z
  .strictObject({
    project_id: z.int().min(1).max(MAX_ID),
    add: z.array(tag).max(100).default([]).transform(unique),
    remove: z.array(tag).max(100).default([]).transform(unique),
  })
  .refine((b) => !b.add.some((t) => b.remove.includes(t)), { path: ['remove'], message: 'a tag cannot be both added and removed' });

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

const listItem = projectSchema.extend({
  thread_counts: z.object({ problem: z.number(), solution: z.number(), comment: z.number() }).nullable(),
});

function idempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    const message = 'must be 1–200 printable ASCII characters without spaces';
    throw errors.VALIDATION_ERROR(`Invalid header: Idempotency-Key: ${message}`, [{ field: 'Idempotency-Key', message }]);
  }
  return value;
}

export function projectRoutes(service: ProjectService): RouteSpec[] {
  const tags = ['crowdfund: projects'];
  return [
    route({
      method: 'post',
      path: '/projects/propose',
      operationId: 'proposeProject',
      summary: 'Propose a project with its problems and solutions (409 PROJECT_NAME_TAKEN); an Idempotency-Key makes a retry answer the first answer',
      description: 'Each problem and solution becomes a thread of the project. Project ids are integers from 1; the examples that follow use the first.',
      tags,
      headers: { 'Idempotency-Key': 'any 1–200 printable ASCII characters: the same key again answers the first answer and creates nothing' },
      body: proposeBody,
      responses: { 200: { description: "Proposed: the new project's id", schema: z.object({ project_id: z.int().min(1) }) } },
      errors: ['PROJECT_NAME_TAKEN', 'IDEMPOTENCY_KEY_REUSED', 'ROLE_UNAVAILABLE'],
      example: {
        headers: { 'Idempotency-Key': 'example-proposal-1' },
        body: {
          project_name: 'Solar schoolyard',
          tagline: 'Panels on every school roof in the canton',
          tags: ['energy', 'schools'],
          problems: ['School roofs sit empty'],
          solutions: ['A cooperative that leases the roofs'],
        },
      },
      async handler({ body, ctx }) {
        return { body: { project_id: await service.propose(body, idempotencyKey(ctx.get('idempotency-key') || undefined)) } };
      },
    }),
    route({
      method: 'get',
      path: '/projects',
      operationId: 'listProjects',
      summary: 'A page of projects, newest first, each with its thread counts; `tag` keeps those carrying it',
      description:
        'Pass `next_cursor` back as `cursor` for the next page. While crowdfund.threads fails (unreachable, or answering outside its contract), thread_counts are null and threads_unavailable says why.',
      tags,
      query: z.object({ limit: limitField(20), cursor: idCursor, tag: tag.optional() }),
      example: { query: { limit: 20 } },
      responses: { 200: z.object({ items: z.array(listItem), next_cursor: z.string().nullable(), threads_unavailable: threadsUnavailable.optional() }) },
      async handler({ query }) {
        const page = await service.list({ limit: query.limit, before: query.cursor, tag: query.tag });
        return {
          body: { items: page.items, next_cursor: nextCursor(page.last), ...(page.threads_unavailable && { threads_unavailable: page.threads_unavailable }) },
        };
      },
    }),
    route({
      method: 'get',
      path: '/projects/:id',
      operationId: 'getProject',
      summary: 'A project with its tags and threads (through GetProjectThreads); threads null, with the reason, while that role fails',
      description: 'The first `threads_limit` top-level threads; GET /projects/{id}/threads pages through the rest.',
      tags,
      params: idParams,
      query: z.object({ threads_limit: limitField(20) }),
      responses: {
        200: {
          description: 'The project',
          schema: projectSchema.extend({
            threads: z.array(restThread).nullable(),
            threads_next_cursor: z.string().nullable(),
            threads_unavailable: threadsUnavailable.optional(),
          }),
        },
      },
      errors: ['PROJECT_NOT_FOUND'],
      example: { params: { id: 1 }, query: { threads_limit: 20 } },
      async handler({ params, query }) {
        const project = params.id <= MAX_ID ? await service.get(params.id, query.threads_limit) : undefined;
        if (!project) throw projectNotFound(params.id);
        return { body: { ...project, threads: project.threads?.map(toRest) ?? null } };
      },
    }),
    route({
      method: 'put',
      path: '/projects/tags',
      operationId: 'changeProjectTags',
      summary: 'Add and remove tags of a project in one transaction; adding a present tag or removing an absent one changes nothing',
      description: 'A tag may not be in both `add` and `remove`.',
      tags,
      body: tagsBody,
      responses: { 200: { description: "The project's tags after the change", schema: z.object({ project_id: z.int(), tags: z.array(z.string()) }) } },
      errors: ['PROJECT_NOT_FOUND', 'TOO_MANY_TAGS'],
      example: { body: { project_id: 1, add: ['solar'], remove: ['schools'] } },
      async handler({ body }) {
        const result = await service.changeTags(body.project_id, body.add, body.remove);
        if (!result) throw projectNotFound(body.project_id);
        return { body: { project_id: body.project_id, tags: result } };
      },
    }),
  ];
}
