// The storage use cases behind the contract: writes queue into one group commit, reads go to the store.
import type { z } from 'zod';
import { createGroupCommit } from '../../../db/group-commit.ts';
import { errors } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { EventKind, StoreInput, StoreResult, storageContract } from '../contract.ts';
import { listQueryOf, type EventStore } from './store/event-store.ts';
import { mayBeOneEvent } from './store/write-batch.ts';
import type { storageMetrics } from './metrics.ts';

export interface StorageService {
  store(input: StoreInput): Promise<StoreResult>;
  list(input: z.input<typeof storageContract.methods.list.input>): ReturnType<EventStore['list']>;
  stats(): ReturnType<EventStore['stats']>;
  at(input: { kind: EventKind; index: number }): ReturnType<EventStore['at']>;
  byTrace(input: { kind: EventKind; trace_id: string }): ReturnType<EventStore['byTrace']>;
  /** Commits every queued event (answering its request) and refuses new ones. */
  close(): Promise<void>;
}

export function createStorageService(store: EventStore, opts: { maxBatch: number; log: Logger; metrics: ReturnType<typeof storageMetrics> }): StorageService {
  const committer = createGroupCommit<StoreInput, StoreResult>((items) => store.writeBatch(items), {
    maxBatch: opts.maxBatch,
    // One event the database refuses must not fail the others of its batch: retried in halves.
    isolate: mayBeOneEvent,
    onFlush: ({ size, ms, error, split }) => {
      opts.metrics.batchSize.observe(size);
      opts.metrics.flushSeconds.observe(ms / 1000);
      if (!error) return;
      if (split) opts.log.warn({ err: error, size }, 'group commit failed; retrying its events in halves to isolate the one at fault');
      else opts.log.error({ err: error, size }, 'group commit failed; its requests were answered with an error');
    },
  });
  return {
    store: (input) => {
      if (committer.closed) return Promise.reject(errors.NOT_READY('events.storage is shutting down'));
      return committer.submit(input);
    },
    list: async (input) => store.list(listQueryOf(input)),
    stats: () => store.stats(),
    at: ({ kind, index }) => store.at(kind, index),
    byTrace: ({ kind, trace_id }) => store.byTrace(kind, trace_id),
    close: () => committer.close(),
  };
}
