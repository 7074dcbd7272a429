// The events.storage role: the group-committed store behind the contract, and the read endpoints.
import { sql, type Kysely } from 'kysely';
import { Histogram } from 'prom-client';
import { z } from 'zod';
import { createGroupCommit } from '../../db/group-commit.ts';
import { errors } from '../../kernel/errors.ts';
import { route } from '../../kernel/http/route.ts';
import type { RoleContext, RoleInstance } from '../../kernel/module.ts';
import {
  isoTimestamp,
  KIND_PATHS,
  listResultSchema,
  statsSchema,
  storageContract,
  storedEventSchema,
  traceIdSchema,
  type EventKind,
  type StoreInput,
  type StoreResult,
} from './contract.ts';
import { listCursor } from './store/bounds.ts';
import { createEventStore, listQueryOf } from './store/event-store.ts';
import { startSqliteWriter } from './store/sqlite-writer.ts';
import type { EventsConfig } from './config.ts';

const errorBody = z.object({ error: z.string(), message: z.string() });

function histogram(ctx: RoleContext<EventsConfig>, name: string, help: string, buckets: number[]): Histogram {
  // One registry per kernel; a second storage role in the same kernel (never today) would reuse it.
  const existing = ctx.metrics.getSingleMetric(name);
  return (existing as Histogram | undefined) ?? new Histogram({ name, help, buckets, registers: [ctx.metrics] });
}

/** The SQLite file behind `db`, or undefined for an in-memory database. */
async function sqliteFile(db: Kysely<any>): Promise<string | undefined> {
  const { rows } = await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(db);
  return rows[0]?.file || undefined;
}

export async function createStorage(ctx: RoleContext<EventsConfig>): Promise<RoleInstance<typeof storageContract>> {
  if (!ctx.db) throw new Error('events.storage needs its database');
  const file = ctx.dialect === 'sqlite' && ctx.config.EVENTS_SQLITE_WRITER === 'thread' ? await sqliteFile(ctx.db) : undefined;
  const thread = file ? startSqliteWriter(file, ctx.log) : undefined;
  if (thread) ctx.addReadinessCheck('writer', thread.ready);
  const store = createEventStore(ctx.db, ctx.dialect, { writer: thread?.write, sqlite: ctx.sqlite });
  const batchSize = histogram(ctx, 'cantons_events_batch_size', 'Events per group commit', [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000]);
  const flushSeconds = histogram(ctx, 'cantons_events_flush_seconds', 'Duration of one group commit (one transaction)',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
  const committer = createGroupCommit<StoreInput, StoreResult>((items) => store.writeBatch(items), {
    maxBatch: ctx.config.EVENTS_MAX_BATCH,
    onFlush: ({ size, ms, error }) => {
      batchSize.observe(size);
      flushSeconds.observe(ms / 1000);
      if (error) ctx.log.error({ err: error, size }, 'group commit failed; its requests were answered with an error');
    },
  });

  const facade = {
    store: (input: StoreInput) => {
      if (committer.closed) return Promise.reject(errors.NOT_READY('events.storage is shutting down'));
      return committer.submit(input);
    },
    list: async (input: z.input<typeof storageContract.methods.list.input>) => store.list(listQueryOf(input)),
    stats: () => store.stats(),
    at: ({ kind, index }: { kind: EventKind; index: number }) => store.at(kind, index),
    byTrace: ({ kind, trace_id }: { kind: EventKind; trace_id: string }) => store.byTrace(kind, trace_id),
  };

  const listQuery = (kind: EventKind) =>
    z.strictObject({
      start_timestamp: isoTimestamp,
      end_timestamp: isoTimestamp,
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      cursor: listCursor(kind),
    });
  const indexParam = z.object({ index: z.string().regex(/^\d{1,15}$/, 'must be a non-negative integer').transform(Number) });
  const traceParam = z.object({ trace_id: traceIdSchema });

  const perKind = (kind: EventKind) => {
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
  };

  return {
    facade,
    routes: [
      ...perKind('snow_report'),
      ...perKind('lift_ride'),
      route({
        method: 'get',
        path: '/events/stats',
        summary: 'Count per kind, max and average snow depth and lift wait, last update',
        tags: ['events'],
        responses: { 200: statsSchema },
        handler: async () => ({ body: await store.stats() }),
      }),
    ],
    // Every queued event is committed (and its request answered) before the kernel closes the database.
    stop: async () => {
      await committer.close();
      await thread?.close();
    },
  };
}
