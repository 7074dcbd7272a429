// Routes declared as data (method, path, zod params/query/body, responses): validated and documented from one spec.
import type { Context } from 'koa';
import type { z } from 'zod';
import { AppError, errors } from '../errors.ts';
import { readJsonBody } from './body.ts';
import { checkText } from './text.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  ctx: Context;
}

/** A response as /openapi.json shows it: what it means, its body's schema (none when omitted), its headers. */
export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** The body's media type when it is not JSON (a CSV report). */
  contentType?: string;
  /** Headers this response sets, name → what they say (X-Request-Id is on every response already). */
  headers?: Record<string, string>;
}

/**
 * This process as `npm start` serves it, for examples that name it (the benchmark's built-in target): /openapi.json
 * keeps it literal, so any tool can send the example; /docs shows it as the page's own origin (kernel/http/docs.ts).
 */
export const EXAMPLE_ORIGIN = 'http://127.0.0.1:8080';

/**
 * Values for every input of a route, shown by /docs ("Try it out") and sent by kernel/openapi-examples.test.ts:
 * sent in document order on a fresh start, each answers the route's first documented status (or `status`).
 */
export interface RouteExample {
  params?: Record<string, string | number>;
  query?: Record<string, string | number | boolean>;
  headers?: Record<string, string>;
  body?: unknown;
  /** The status this example answers when it cannot reach a success on a fresh start (an id made at run time). */
  status?: number;
}

export interface RouteSpec<P = any, Q = any, B = any> {
  method: HttpMethod | HttpMethod[];
  /** @koa/router path: `/products/:id`, `/config/*key`. */
  path: string;
  /** camelCase and unique, for generated clients; one per method when there are several. Derived when omitted. */
  operationId?: string | Partial<Record<HttpMethod, string>>;
  summary: string;
  /** Markdown, for /docs: what a client needs beyond the summary. */
  description?: string;
  tags?: string[];
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  /** Request headers the handler reads, name → what they do (documentation only). */
  headers?: Record<string, string>;
  /** Any JSON is accepted when `body` is `z.unknown()`; omitted means the route reads no body. */
  body?: z.ZodType<B>;
  /** A body the handler reads itself (its own limit, a multipart form): documented, not validated by the kernel. */
  rawBody?: { schema: z.ZodType; contentType?: string; description?: string };
  /** Success statuses → the body's schema (null: no body) or a ResponseDoc, for /openapi.json. */
  responses: Record<number, z.ZodType | null | ResponseDoc>;
  /**
   * Catalogue codes (kernel/errors.ts defineErrors) this route answers with besides the kernel's own
   * (VALIDATION_ERROR, BAD_REQUEST, UNAUTHORIZED, NOT_READY …); their statuses come from the catalogue.
   */
  errors?: string[];
  /**
   * 422: the route's validation failures (path, query, body, and VALIDATION_ERROR from its handler) are
   * 422 UNPROCESSABLE_ENTITY, same body: for routes whose original's clients (FastAPI) depend on 422.
   */
  validationStatus?: 422;
  example?: RouteExample;
  handler(input: RouteInput<P, Q, B>): Promise<Reply> | Reply;
}

export function route<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): RouteSpec<P, Q, B> {
  return spec;
}

/** Parses `value` with `schema` or throws VALIDATION_ERROR naming every bad field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'query' | 'path'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ field: i.path.join('.') || where, message: i.message }));
  const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ');
  throw errors.VALIDATION_ERROR(`Invalid ${where}: ${summary}`, details);
}

// Query strings parsed and text-checked, by their text: clients repeat them (a polling GET, a page size), and
// Koa's parser (URLSearchParams, a fresh object per request) cost more than the rest of a cached GET's routing.
// Frozen, since every request with that text shares the object; bounded, and emptied when full.
const QUERY_CACHE_SIZE = 1000;
const queries = new Map<string, Readonly<Record<string, string | string[]>>>();

/** `ctx.query` as Koa parses it (the same object shape), checked by checkText, from a cache by query text. */
export function checkedQuery(ctx: Context): Readonly<Record<string, string | string[]>> {
  const text = ctx.querystring;
  let query = queries.get(text);
  if (query) return query;
  query = ctx.query as Record<string, string | string[]>;
  checkText(query, 'query');
  for (const v of Object.values(query)) if (Array.isArray(v)) Object.freeze(v);
  if (queries.size >= QUERY_CACHE_SIZE) queries.clear();
  queries.set(text, Object.freeze(query));
  return query;
}

/** Koa middleware for one spec: parse and validate the inputs, run the handler, write the reply. */
export function toMiddleware(spec: RouteSpec, bodyLimit: number) {
  const middleware = routeMiddleware(spec, bodyLimit);
  if (spec.validationStatus !== 422) return middleware;
  return (ctx: Context) =>
    middleware(ctx).catch((err: unknown) => {
      throw err instanceof AppError && err.code === 'VALIDATION_ERROR' ? errors.UNPROCESSABLE_ENTITY(err.message, err.details) : err;
    });
}

function routeMiddleware(spec: RouteSpec, bodyLimit: number) {
  return async (ctx: Context & { params?: Record<string, string> }) => {
    // Every path and query value, declared or not, passes the kernel's text check (the body's is in readJsonBody).
    if (ctx.params) checkText(ctx.params, 'path');
    const raw = ctx.querystring ? checkedQuery(ctx) : undefined;
    const params = spec.params ? validate(spec.params, ctx.params ?? {}, 'path') : ctx.params;
    // A route that declares no query ignores it.
    const query = spec.query ? validate(spec.query, raw ?? {}, 'query') : {};
    const body = spec.body ? validate(spec.body, await readJsonBody(ctx, bodyLimit), 'body') : undefined;
    writeReply(ctx, await spec.handler({ params, query, body, ctx }));
  };
}

/** A plain object or array: what Koa would send as JSON (a stream, Blob or Buffer is an object too). */
const isPlainJson = (body: unknown): body is object =>
  typeof body === 'object' && body !== null && (Array.isArray(body) || Object.getPrototypeOf(body) === Object.prototype);

/**
 * A JSON reply, or text under a content type the route set, goes straight to Node's response as Koa's respond()
 * would send it (same type, length and bytes); Koa's body setter and respond() cost a cached GET more than all
 * of the kernel's own work. Anything else — no body, a Buffer or stream, text of no declared type, HEAD, an empty
 * status — takes Koa's path.
 */
function writeReply(ctx: Context, reply: Reply): void {
  const res = ctx.res;
  if (reply.headers) for (const name in reply.headers) res.setHeader(name, reply.headers[name]);
  const { status = 200, body } = reply;
  const text = typeof body === 'string' ? (res.hasHeader('content-type') ? body : undefined) : isPlainJson(body) ? JSON.stringify(body) : undefined;
  if (text !== undefined && ctx.method !== 'HEAD' && status !== 204 && status !== 205 && status !== 304) {
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(text));
    res.statusCode = status;
    ctx.respond = false;
    res.end(text);
    return;
  }
  // Setting a body makes the status 200 by itself; only another status costs Koa's status setter.
  if (reply.status !== undefined || body === undefined) ctx.status = status;
  if (body !== undefined) ctx.body = body;
}
