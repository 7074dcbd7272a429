// The events.storage role: the event store (inline or on a writer thread), its group commit, and its read routes.
import type { RoleContext, RoleInstance } from '../../../kernel/module.ts';
import type { EventsConfig } from '../config.ts';
import type { storageContract } from '../contract.ts';
import type { EventsDB } from '../db.ts';
import { createEventStore } from './store/event-store.ts';
import { sqliteFile, startSqliteWriter } from './store/sqlite-writer.ts';
import { eventsConsole } from './console.ts';
import { storageMetrics } from './metrics.ts';
import { storageRoutes } from './routes.ts';
import { createStorageService } from './service.ts';

export async function createStorageRole(ctx: RoleContext<EventsConfig, EventsDB>): Promise<RoleInstance<typeof storageContract>> {
  const file = ctx.dialect === 'sqlite' && ctx.config.EVENTS_SQLITE_WRITER === 'thread' ? await sqliteFile(ctx.db) : undefined;
  const thread = file ? startSqliteWriter(file, ctx.log) : undefined;
  if (thread) ctx.addReadinessCheck('writer', thread.ready);
  const store = createEventStore(ctx.db, ctx.dialect, { read: ctx.read, writer: thread?.write, sqlite: ctx.sqlite });
  const service = createStorageService(store, { maxBatch: ctx.config.EVENTS_MAX_BATCH, log: ctx.log, metrics: storageMetrics(ctx.metrics) });
  const { close, ...facade } = service;
  return {
    facade,
    routes: storageRoutes(store),
    console: eventsConsole(() => facade.stats()),
    // Every queued event is committed (and its request answered) before the kernel closes the database.
    stop: async () => {
      await close();
      await thread?.close();
    },
  };
}
