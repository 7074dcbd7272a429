// The storage role's read endpoints: time-range pages, the n-th event, by trace id (per kind), and stats.
import { z } from 'zod';
import { route, type RouteSpec } from '../../../kernel/http/route.ts';
import { isoTimestamp, KIND_PATHS, listResultSchema, statsSchema, storedEventSchema, traceIdSchema, type EventKind } from '../contract.ts';
import { listCursor } from '../store/bounds.ts';
import type { EventStore } from '../store/event-store.ts';

const errorBody = z.object({ error: z.string(), message: z.string() });
const indexParam = z.object({ index: z.string().regex(/^\d{1,15}$/, 'must be a non-negative integer').transform(Number) });
const traceParam = z.object({ trace_id: traceIdSchema });

const listQuery = (kind: EventKind) =>
  z.strictObject({
    start_timestamp: isoTimestamp,
    end_timestamp: isoTimestamp,
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: listCursor(kind),
  });

function kindRoutes(store: EventStore, kind: EventKind): RouteSpec[] {
  const base = `/events/${KIND_PATHS[kind]}`;
  const tags = ['events'];
  return [
    route({
      method: 'get',
      path: base,
      summary: `${kind} events with start_timestamp <= date_created < end_timestamp, oldest first, paged by cursor`,
      tags,
      query: listQuery(kind),
      responses: { 200: listResultSchema, 400: errorBody },
      handler: async ({ query: { cursor, ...range } }) => ({ body: await store.list({ kind, ...range, after: cursor }) }),
    }),
    route({
      method: 'get',
      path: `${base}/at/:index`,
      summary: `The index-th ${kind} in arrival order (0-based)`,
      tags,
      params: indexParam,
      responses: { 200: storedEventSchema, 404: errorBody },
      handler: async ({ params }) => ({ body: await store.at(kind, params.index) }),
    }),
    route({
      method: 'get',
      path: `${base}/by-trace/:trace_id`,
      summary: `The ${kind} stored under a trace id`,
      tags,
      params: traceParam,
      responses: { 200: storedEventSchema, 404: errorBody },
      handler: async ({ params }) => ({ body: await store.byTrace(kind, params.trace_id) }),
    }),
  ];
}

export function storageRoutes(store: EventStore): RouteSpec[] {
  return [
    ...kindRoutes(store, 'snow_report'),
    ...kindRoutes(store, 'lift_ride'),
    route({
      method: 'get',
      path: '/events/stats',
      summary: 'Count per kind, max and average snow depth and lift wait, last update',
      tags: ['events'],
      responses: { 200: statsSchema },
      handler: async () => ({ body: await store.stats() }),
    }),
  ];
}
