// The storage role's read endpoints: time-range pages, the n-th event, by trace id (per kind), and stats.
import { z } from 'zod';
import { route, type RouteSpec } from '../../../kernel/http/route.ts';
import { isoTimestamp, KIND_PATHS, listResultSchema, statsSchema, storedEventSchema, traceIdSchema, type EventKind } from '../contract.ts';
import { listCursor } from './store/bounds.ts';
import type { EventStore } from './store/event-store.ts';

// Documented as the integer it is (the pattern is how the path's text is checked).
const indexParam = z.object({
  index: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a non-negative integer')
    .transform(Number)
    .meta({ type: 'integer', minimum: 0, pattern: undefined }),
});
// The trace id the receiver's examples send (receiver/routes.ts), so that the by-trace examples find their event.
const exampleTrace = (kind: EventKind) => `example-${KIND_PATHS[kind]}-1`;
const traceParam = z.object({ trace_id: traceIdSchema });
// The shared component of /openapi.json for one stored event of either kind.
const storedEvent = storedEventSchema.meta({ id: 'StoredEvent', description: 'an event as stored: what was sent, plus trace_id, index and date_created' });

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
  // listSnowReports, getSnowReportAt, getSnowReportByTrace …
  const Name = kind
    .split('_')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
  return [
    route({
      method: 'get',
      path: base,
      operationId: `list${Name}s`,
      summary: `${kind} events with start_timestamp <= date_created < end_timestamp, oldest first, paged by cursor`,
      description: 'Timestamps are ISO-8601 with an offset (`Z` or `+01:00`). Pass `next_cursor` back as `cursor`, with the same range, for the next page.',
      tags,
      query: listQuery(kind),
      responses: { 200: { description: 'A page of events', schema: listResultSchema } },
      errors: ['INVALID_RANGE'],
      example: { query: { start_timestamp: '2000-01-01T00:00:00Z', end_timestamp: '2100-01-01T00:00:00Z', limit: 100 } },
      handler: async ({ query: { cursor, ...range } }) => ({ body: await store.list({ kind, ...range, after: cursor }) }),
    }),
    route({
      method: 'get',
      path: `${base}/at/:index`,
      operationId: `get${Name}At`,
      summary: `The index-th ${kind} in arrival order (0-based)`,
      description: 'Arrival order is the order storage committed the events; index 0 is the first.',
      tags,
      params: indexParam,
      responses: { 200: { description: 'The event, with what storage added', schema: storedEvent } },
      errors: ['EVENT_NOT_FOUND'],
      example: { params: { index: 0 } },
      handler: async ({ params }) => ({ body: await store.at(kind, params.index) }),
    }),
    route({
      method: 'get',
      path: `${base}/by-trace/:trace_id`,
      operationId: `get${Name}ByTrace`,
      summary: `The ${kind} stored under a trace id`,
      description: 'The trace id is the X-Trace-Id the event was sent with, or the one the receiver answered with.',
      tags,
      params: traceParam,
      responses: { 200: { description: 'The event, with what storage added', schema: storedEvent } },
      errors: ['EVENT_NOT_FOUND'],
      example: { params: { trace_id: exampleTrace(kind) } },
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
      operationId: 'getEventStats',
      summary: 'Count per kind, max and average snow depth and lift wait, last update',
      description: 'Kept up to date as events are stored, so this reads no event.',
      tags: ['events'],
      responses: { 200: { description: 'The statistics', schema: statsSchema } },
      handler: async () => ({ body: await store.stats() }),
    }),
  ];
}
