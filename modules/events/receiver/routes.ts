// The receiver's two POST routes: validate an event, take or assign its trace id, answer 201 once storage committed it.
import type { Context } from 'koa';
import { z } from 'zod';
import type { Facade } from '../../../kernel/contract.ts';
import { route, type RouteSpec } from '../../../kernel/http/route.ts';
import { KIND_PATHS, liftRideSchema, snowReportSchema, type storageContract, type EventKind } from '../contract.ts';
import { eventErrors } from '../errors.ts';
import { uuidv7 } from './trace-id.ts';

const TRACE_ID = /^[\x21-\x7e]{1,100}$/;
const created = z.object({ trace_id: z.string() });

/**
 * The client's trace id (X-Trace-Id, else the X-Request-Id the kernel also honours) or a new UUIDv7
 * (time-ordered, so the unique trace_id index grows at its end; trace-id.ts).
 * A header that is present but malformed is refused rather than silently replaced: the client
 * would otherwise lose the id it means to retry with.
 */
export function traceIdOf(ctx: Context): string {
  const headers = ctx.req.headers;
  const given = headers['x-trace-id'] ?? headers['x-request-id'];
  if (given === undefined) return uuidv7();
  const name = headers['x-trace-id'] !== undefined ? 'X-Trace-Id' : 'X-Request-Id';
  if (typeof given !== 'string' || !TRACE_ID.test(given)) {
    throw eventErrors.INVALID_TRACE_ID(`${name} must be 1–100 printable ASCII characters without spaces`);
  }
  return given;
}

export function receiverRoutes(storage: Facade<typeof storageContract>): RouteSpec[] {
  const post = (kind: EventKind, schema: typeof snowReportSchema | typeof liftRideSchema) =>
    route<Record<string, never>, Record<string, never>, unknown>({
      method: 'post',
      path: `/events/${KIND_PATHS[kind]}`,
      operationId: kind === 'snow_report' ? 'recordSnowReport' : 'recordLiftRide',
      summary: `Record a ${kind.replace('_', ' ')}; 201 once it is durably stored. Send X-Trace-Id to make retries idempotent.`,
      description: 'A retry with the same X-Trace-Id stores nothing new and answers the same trace id. Without one, a new UUIDv7 is the trace id.',
      tags: ['events'],
      headers: { 'X-Trace-Id': "the client's id for this event (1–100 printable ASCII characters); else X-Request-Id, else a new one" },
      body: schema as z.ZodType<unknown>,
      responses: { 201: { description: 'Stored', schema: created, headers: { 'X-Trace-Id': 'the trace id the event is stored under' } } },
      errors: ['INVALID_TRACE_ID'],
      example: {
        // The by-trace examples of storage/routes.ts read this trace id back.
        headers: { 'X-Trace-Id': `example-${KIND_PATHS[kind]}-1` },
        body:
          kind === 'snow_report'
            ? { device_id: 'sensor-7', resort_id: 'zermatt', depth: 140, timestamp: '2026-01-15T08:00:00Z' }
            : { device_id: 'gate-3', resort_id: 'zermatt', lift_id: 'matterhorn-express', wait_minutes: 6, timestamp: '2026-01-15T09:30:00Z' },
      },
      handler: async ({ body, ctx: http }) => {
        const trace_id = traceIdOf(http);
        // No per-request logging here: this is the hot path; the kernel's metrics count every request.
        await storage.store({ kind, trace_id, event: body } as Parameters<typeof storage.store>[0]);
        return { status: 201, body: { trace_id }, headers: { 'x-trace-id': trace_id } };
      },
    });
  return [post('snow_report', snowReportSchema), post('lift_ride', liftRideSchema)];
}
