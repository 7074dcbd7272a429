// The events module's public surface: the event schemas and the events.storage contract.
import { z } from 'zod';
import { defineContract, method } from '../../kernel/contract.ts';

/** The two event types, as stored (`kind`) and as seen in URLs. */
export const EVENT_KINDS = ['snow_report', 'lift_ride'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
export const kindSchema = z.enum(EVENT_KINDS);
/** URL segment per kind: /events/snow-reports, /events/lift-rides. */
export const KIND_PATHS: Record<EventKind, string> = { snow_report: 'snow-reports', lift_ride: 'lift-rides' };

/** RFC 3339 date-time with an explicit offset (`Z` or `+01:00`), as OpenAPI's `format: date-time`. */
export const isoTimestamp = z.iso.datetime({ offset: true });

/** Client-chosen or server-assigned id: visible ASCII only, so it is safe in headers, logs and URLs. */
export const traceIdSchema = z.string().regex(/^[\x21-\x7e]{1,100}$/, 'must be 1–100 printable ASCII characters without spaces');

const id = z.string().min(1).max(50);
// The columns are 32-bit integers in both dialects; a larger value would fail in Postgres, not in validation.
const count = z.int().min(0).max(2_147_483_647);

export const snowReportSchema = z.strictObject({
  device_id: id,
  resort_id: id,
  depth: count.describe('snow depth in cm'),
  timestamp: isoTimestamp,
});

export const liftRideSchema = z.strictObject({
  device_id: id,
  resort_id: id,
  lift_id: id,
  wait_minutes: count,
  timestamp: isoTimestamp,
});

/** What storage adds to every event: its trace id, arrival index (0-based per kind) and server time. */
const stored = {
  trace_id: traceIdSchema,
  index: z.int().min(0),
  date_created: z.string().describe('server clock, UTC, fixed-width ISO-8601 with milliseconds'),
};
export const storedSnowReportSchema = snowReportSchema.extend(stored);
export const storedLiftRideSchema = liftRideSchema.extend(stored);
export const storedEventSchema = z.union([storedSnowReportSchema, storedLiftRideSchema]);
export type StoredSnowReport = z.infer<typeof storedSnowReportSchema>;
export type StoredLiftRide = z.infer<typeof storedLiftRideSchema>;
export type StoredEvent = StoredSnowReport | StoredLiftRide;

export const storeInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('snow_report'), trace_id: traceIdSchema, event: snowReportSchema }),
  z.strictObject({ kind: z.literal('lift_ride'), trace_id: traceIdSchema, event: liftRideSchema }),
]);
export type StoreInput = z.infer<typeof storeInputSchema>;

/** The same answer for a first store and for any retry with the same trace id. */
export const storeResultSchema = z.object({ trace_id: z.string(), index: z.int().min(0), date_created: z.string() });
export type StoreResult = z.infer<typeof storeResultSchema>;

export const listInputSchema = z.strictObject({
  kind: kindSchema,
  start_timestamp: isoTimestamp.describe('inclusive, compared with date_created'),
  end_timestamp: isoTimestamp.describe('exclusive, compared with date_created'),
  limit: z.int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional().describe('next_cursor of the previous page'),
});
export type ListInput = z.input<typeof listInputSchema>;

export const listResultSchema = z.object({
  items: z.array(storedEventSchema),
  next_cursor: z.string().nullable().describe('null on the last page'),
});
export type ListResult = { items: StoredEvent[]; next_cursor: string | null };

const num = z.number().nullable();
export const statsSchema = z.object({
  snow_reports: z.object({ count: z.int(), max_depth: num, avg_depth: num, last_updated: z.string().nullable() }),
  lift_rides: z.object({ count: z.int(), max_wait_minutes: num, avg_wait_minutes: num, last_updated: z.string().nullable() }),
  last_updated: z.string().nullable().describe('date_created of the newest stored event'),
});
export type EventStats = z.infer<typeof statsSchema>;

export const storageContract = defineContract('events.storage', {
  store: method({
    input: storeInputSchema,
    output: storeResultSchema,
    // Safe to retry: a trace id is stored once and a retry gets the first answer.
    idempotent: true,
    summary: 'Store an event durably (group commit); resolves after the commit',
  }),
  list: method({ input: listInputSchema, output: listResultSchema, idempotent: true, summary: 'Events of a kind by date_created range, paged' }),
  stats: method({ input: z.strictObject({}).nullish(), output: statsSchema, idempotent: true, summary: 'Counts, max and average per kind' }),
  at: method({
    input: z.strictObject({ kind: kindSchema, index: z.int().min(0) }),
    output: storedEventSchema,
    idempotent: true,
    summary: 'The index-th event of a kind in arrival order (0-based)',
  }),
  byTrace: method({
    input: z.strictObject({ kind: kindSchema, trace_id: traceIdSchema }),
    output: storedEventSchema,
    idempotent: true,
    summary: 'The event of a kind stored under a trace id',
  }),
});
