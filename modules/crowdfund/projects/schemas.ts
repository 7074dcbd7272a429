// The REST shapes of crowdfund.projects: path ids, page fields, threads as a browser sees them (type names, null parent).
import { z } from 'zod';
import { cursorField } from '../../../kernel/http/cursor.ts';
import { crowdfundErrors } from '../errors.ts';
import { THREAD_TYPE_NAMES, type Thread } from '../contract.ts';

/** Ids are 32-bit serials in both dialects: a larger one names nothing. */
export const MAX_ID = 2_147_483_647;

// Digits only: "1e3", "0x10" or "1.0" are not ids (z.coerce.number would accept them). Documented as the integer it is.
export const idParams = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'must be a positive integer')
    .transform(Number)
    .meta({ type: 'integer', minimum: 1, pattern: undefined }),
});

export const limitField = (def: number) => z.coerce.number().int().min(1).max(100).default(def);
/** The last id of the previous page. */
export const idCursor = cursorField(z.int().min(1).max(MAX_ID));

export const projectNotFound = (id: number) => crowdfundErrors.PROJECT_NOT_FOUND(`Project ${id} not found`);
export const threadNotFound = (id: number) => crowdfundErrors.THREAD_NOT_FOUND(`Thread ${id} not found`);

export const threadTypeName = z.enum(THREAD_TYPE_NAMES);

export const restThread = z
  .object({
    thread_id: z.number(),
    project_id: z.number(),
    thread_type: threadTypeName,
    message: z.string(),
    created_at: z.string(),
    up_votes: z.number(),
    down_votes: z.number(),
    parent_thread_id: z.number().nullable(),
    reply_count: z.number(),
  })
  .meta({ id: 'Thread', description: 'a problem, solution or comment of a project, or a reply to one' });
export type RestThread = z.infer<typeof restThread>;

export const toRest = (t: Thread): RestThread => ({ ...t, thread_type: THREAD_TYPE_NAMES[t.thread_type], parent_thread_id: t.parent_thread_id || null });

export const threadPage = z.object({ items: z.array(restThread), next_cursor: z.string().nullable() });

export const threadsUnavailable = z
  .object({ error: z.string(), message: z.string() })
  .describe('why threads is null: how crowdfund.threads failed (its error code and message)');

export const projectSchema = z.object({
  project_id: z.number(),
  project_name: z.string(),
  tagline: z.string(),
  tags: z.array(z.string()),
  created_at: z.string(),
});
