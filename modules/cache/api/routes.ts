// HTTP API of the cache: PUT/POST, GET and DELETE /config/<key…>, and GET /config to list keys.
import { z } from 'zod';
import { readJsonBody } from '../../../kernel/http/body.ts';
import { cursorField, nextCursor } from '../../../kernel/http/cursor.ts';
import { route, type Reply, type RouteSpec } from '../../../kernel/http/route.ts';
import type { CacheBackend, Entry } from './backend.ts';
import { cacheErrors } from '../errors.ts';
import { keyFromPath, keySchema, MAX_KEY_BYTES } from './keys.ts';
import type { CacheMetrics } from './metrics.ts';

export interface RouteOptions {
  maxValueBytes: number;
}

// Response headers of the cache, for /openapi.json.
const REVISION = { 'X-Cache-Revision': 'the etcd revision (mod_revision) of the value: it grows with every write to any key' };
const STALE = { 'X-Cache-Stale': "`true` when this instance's copy may be behind etcd (its watch is reconnecting); absent otherwise" };
const flag = z
  .string()
  .default('true')
  .transform((v, ctx) => {
    const s = v.toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
    ctx.addIssue({ code: 'custom', message: 'expected true or false' });
    return z.NEVER;
  });
// The key is read from the raw path (see keyFromPath); this schema only documents it.
const keyParam = z.object({ key: z.string().describe('the key; may contain "/"') });
const JSON_TYPE = 'application/json; charset=utf-8';

function notFound(key: string, headers?: Record<string, string>): Reply {
  return { status: 404, body: cacheErrors.KEY_NOT_FOUND(`No value is stored under key ${JSON.stringify(key)}`).toBody(), headers };
}

/** The stored JSON text is the body as it is: nothing is parsed or re-serialised on a read. */
function found(entry: Entry, stale: boolean): Reply {
  const headers: Record<string, string> = { 'content-type': JSON_TYPE, 'x-cache-revision': String(entry.revision) };
  if (stale) headers['x-cache-stale'] = 'true';
  return { body: entry.json, headers };
}

export function cacheRoutes(backend: CacheBackend, opts: RouteOptions, metrics: CacheMetrics): RouteSpec[] {
  const put = route({
    method: ['put', 'post'],
    path: '/config/*key',
    operationId: { put: 'putConfigValue', post: 'postConfigValue' },
    summary: 'Store any JSON value under a key (POST is an alias of PUT). The request body is the value.',
    description:
      'The whole body is the value: an object, array, string, number, boolean or null, up to CACHE_MAX_VALUE_BYTES as compact JSON. Every instance sees the write once etcd has it.',
    tags: ['cache'],
    params: keyParam,
    rawBody: { schema: z.unknown().describe('any JSON value'), description: 'the value to store, as JSON' },
    responses: {
      200: {
        description: 'Stored: the key, the value as stored and its revision',
        schema: z.object({ key: z.string(), value: z.unknown(), revision: z.number().int() }),
      },
    },
    errors: ['INVALID_KEY', 'VALUE_TOO_LARGE', 'CACHE_BACKEND_UNAVAILABLE'],
    example: { params: { key: 'feature-flags' }, body: { checkout_v2: true, max_items: 20 } },
    async handler({ ctx }) {
      const key = keyFromPath(ctx.path);
      // Read here, not through the route's `body`, so the limit follows CACHE_MAX_VALUE_BYTES rather
      // than the kernel's BODY_LIMIT; twice the value limit leaves room for pretty-printed JSON.
      const value = await readJsonBody(ctx, opts.maxValueBytes * 2);
      const json = JSON.stringify(value);
      const size = Buffer.byteLength(json, 'utf8');
      if (size > opts.maxValueBytes) {
        throw cacheErrors.VALUE_TOO_LARGE(`The value is ${size} bytes as compact JSON; the limit is ${opts.maxValueBytes}`);
      }
      const entry = await backend.put(key, json);
      return { body: { key, value, revision: entry.revision } };
    },
  });

  const get = route({
    method: 'get',
    path: '/config/*key',
    operationId: 'getConfigValue',
    summary: "Read a value: from this instance's copy (use_cache=true, default) or linearizably from etcd.",
    description: 'The body is the stored JSON as it was written. A 404 read from a stale copy carries `X-Cache-Stale: true` too.',
    tags: ['cache'],
    params: keyParam,
    query: z.object({ use_cache: flag }),
    responses: {
      200: { description: 'The stored value', schema: z.unknown().describe('the JSON value stored under the key'), headers: { ...REVISION, ...STALE } },
    },
    errors: ['INVALID_KEY', 'KEY_NOT_FOUND', 'CACHE_BACKEND_UNAVAILABLE'],
    example: { params: { key: 'feature-flags' }, query: { use_cache: 'true' } },
    async handler({ ctx, query }) {
      const key = keyFromPath(ctx.path);
      if (query.use_cache && backend.ready()) {
        const { entry, stale } = backend.getCached(key);
        if (stale) metrics.staleReads.inc();
        if (!entry) return notFound(key, stale ? { 'x-cache-stale': 'true' } : undefined);
        return found(entry, stale);
      }
      // Before the first list completes there is no copy to read; etcd answers instead.
      const entry = await backend.getFresh(key);
      return entry ? found(entry, false) : notFound(key);
    },
  });

  const del = route({
    method: 'delete',
    path: '/config/*key',
    operationId: 'deleteConfigValue',
    summary: 'Delete a key.',
    description: 'Every instance forgets the key once etcd has the delete.',
    tags: ['cache'],
    params: keyParam,
    responses: { 204: { description: 'Deleted', headers: REVISION } },
    errors: ['INVALID_KEY', 'KEY_NOT_FOUND', 'CACHE_BACKEND_UNAVAILABLE'],
    example: { params: { key: 'feature-flags' } },
    async handler({ ctx }) {
      const key = keyFromPath(ctx.path);
      const revision = await backend.delete(key);
      if (revision === undefined) return notFound(key);
      return { status: 204, headers: { 'x-cache-revision': String(revision) } };
    },
  });

  const list = route({
    method: 'get',
    path: '/config',
    operationId: 'listConfigKeys',
    summary: 'List keys in byte order, optionally under a prefix; page with `cursor`.',
    description: 'A page of at most `limit` keys; pass `next_cursor` back as `cursor` for the next page (null: the last page).',
    tags: ['cache'],
    query: z.object({
      prefix: z
        .string()
        .max(MAX_KEY_BYTES)
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
        .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'no control characters')
        .default(''),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      // The last key of the previous page.
      cursor: cursorField(keySchema),
      use_cache: flag,
    }),
    responses: {
      200: { description: 'A page of keys', schema: z.object({ keys: z.array(z.string()), next_cursor: z.string().nullable() }), headers: STALE },
    },
    errors: ['CACHE_BACKEND_UNAVAILABLE'],
    example: { query: { prefix: '', limit: 100, use_cache: 'true' } },
    async handler({ query }) {
      const page = await backend.list({ prefix: query.prefix, limit: query.limit, after: query.cursor, fresh: !query.use_cache });
      if (page.stale) metrics.staleReads.inc();
      return {
        body: { keys: page.keys, next_cursor: nextCursor(page.lastKey) },
        headers: page.stale ? { 'x-cache-stale': 'true' } : undefined,
      };
    },
  });

  // `/config/` with nothing after it: the wildcard routes need at least one character.
  const emptyKey = route({
    method: ['put', 'post', 'delete'],
    path: '/config',
    operationId: { put: 'putEmptyKey', post: 'postEmptyKey', delete: 'deleteEmptyKey' },
    summary: 'An empty key is refused.',
    description: 'Always 400 INVALID_KEY: `/config` itself names no key (GET /config lists keys).',
    tags: ['cache'],
    responses: { 400: null },
    errors: ['INVALID_KEY'],
    handler() {
      throw cacheErrors.INVALID_KEY('Invalid key: the key is empty');
    },
  });

  return [list, emptyKey, put, get, del];
}
