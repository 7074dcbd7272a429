// The event bus seen from a module: publish inside your transaction, subscribe with a handler.
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { ModuleDatabase } from '../../db/database.ts';
import type { Topic } from '../contract.ts';

export interface BusEvent<P = unknown> {
  /** UUID; consumers record it in their inbox so a redelivery changes nothing. */
  id: string;
  topic: string;
  payload: P;
  /** ISO-8601 UTC, when the publishing transaction wrote it to the outbox. */
  createdAt: string;
  /** The publishing module. */
  source: string;
  /** W3C trace context of the publishing span (kernel/tracing/), when the publisher traced: its consumers continue that trace. */
  trace?: Record<string, string>;
}

/**
 * Runs inside a transaction of the consuming module's database, in which the kernel has already
 * recorded `event.id` in the inbox: commit applies both, a throw rolls both back and the event is retried.
 * A handler never calls another process itself (db/transaction-guard.ts): it records its intent in `trx` and
 * passes `afterCommit` the function that acts on it, which runs once the transaction has committed (never when
 * it rolled back). A crash in between leaves the intent recorded: the module finds it again (a sweep).
 */
export type EventHandler<P = unknown, DB = unknown> = (event: BusEvent<P>, trx: Transaction<DB>, afterCommit: (fn: () => void) => void) => Promise<void>;

/** A role's handler of one topic; the kernel parses each event's payload with the topic's schema before calling it. */
export interface Subscription {
  topic: Topic;
  // Each subscription's own payload and database types, checked where on() made it.
  handle: EventHandler<any, any>;
}

/** `subscriptions: [on(ORDER_CREATED, async (event, trx) => …)]`: the handler sees the topic's parsed payload type. */
export function on<S extends z.ZodType, DB>(topic: Topic<S>, handle: EventHandler<z.output<S>, DB>): Subscription {
  return { topic, handle };
}

export interface Publisher {
  /** Writes the event to the module's outbox in `trx` (the caller's transaction); the relay delivers it after commit. */
  // Transaction<DB> spelled out: TypeScript infers DB from it, where Kysely<DB> alone would not.
  publish<S extends z.ZodType, DB>(trx: Kysely<DB> | Transaction<DB>, topic: Topic<S>, payload: z.input<S>): Promise<string>;
  /**
   * Records a dead letter for `consumer` (`module.role`) and `topic`, as though its handler had failed every
   * attempt: for work a handler handed to `afterCommit` that gave up. `dead-letters replay` then runs that
   * handler again with `payload` (under a new event id), which may record the intent anew.
   */
  deadLetter<DB>(trx: Kysely<DB> | Transaction<DB>, dead: { consumer: string; topic: Topic; payload: unknown; error: string; attempts: number }): Promise<void>;
}

// ---- The kernel's side of the bus (kernel/bootstrap.ts and the CLI use these; modules never do). ----

/** An event a consumer could not apply after every attempt; kept in the consumer's database. */
export interface DeadLetter {
  id: string;
  consumer: string;
  eventId: string;
  topic: string;
  payload: unknown;
  error: string;
  attempts: number;
  failedAt: string;
  module: string;
}

export interface BusOptions {
  /** redis:// (or rediss://) → Redis Streams; undefined → in-process. */
  url?: string;
  log: Logger;
  metrics: Registry;
  /** Handler attempts per delivery before the event is dead-lettered. */
  maxAttempts: number;
  /** First retry delay; doubles each attempt, with full jitter. */
  retryBaseMs: number;
  /** How often a relay looks at its outbox when nothing nudged it (default 200 ms). */
  pollMs?: number;
  /** Redis key prefix: streams are `${streamPrefix}:${topic}` (default 'cantons'). */
  streamPrefix?: string;
  /** Redis: a pending entry idle this long belongs to a crashed consumer and is reclaimed (default 30 s). */
  claimIdleMs?: number;
  /**
   * How long a relay owns the outbox rows it claimed before another relay may take them, renewed every third
   * of it while they are delivered (default 1.5 s: after a crash, the next relay takes the rows this soon).
   */
  leaseMs?: number;
  /** Upper bound for stop() to flush the outbox (default 5 s). */
  flushTimeoutMs?: number;
  /** Outbox rows claimed per relay round (default 100). */
  batchSize?: number;
  /** Redis: approximate MAXLEN each stream is trimmed to (default 100 000). */
  streamMaxLen?: number;
  /** Inbox entries older than this are pruned, hourly (default 7 days). */
  inboxRetentionMs?: number;
  /**
   * Redis: what to do with a Redis that would lose events on a restart (no AOF): 'refuse' — start-up fails,
   * and after a reconnect to such a Redis nothing is relayed (rows wait in the outbox); 'warn' (default) —
   * an error line at start and on every reconnect; 'accept' — an info line. docs/architecture.md.
   */
  ephemeralRedis?: 'refuse' | 'warn' | 'accept';
  /**
   * In-process bus: an event whose every subscriber keeps its inbox in the publisher's database is applied in the
   * publishing write transaction (one commit, no outbox row, relay or inbox entry), unless a handler throws, or
   * the outbox still holds events it would overtake; then it goes through the outbox. Default false; the app
   * turns it on (BUS_INLINE).
   */
  inline?: boolean;
}

export interface Bus {
  /** The module's Publisher; also registers that module's outbox with a relay. */
  publisher(module: string, mdb: ModuleDatabase): Publisher;
  /** `consumer` is 'module.role'; its inbox and dead letters live in `mdb`. */
  subscribe(consumer: string, mdb: ModuleDatabase, topic: string, handler: EventHandler): void;
  start(): Promise<void>;
  /** Flushes pending outbox rows (bounded by flushTimeoutMs), stops relays and consumers, closes Redis connections. */
  stop(): Promise<void>;
  /** Redis reachable (always true in-process). */
  ready(): Promise<boolean>;
  /** Dead letters in the databases of every subscribed consumer. */
  deadLetters(): Promise<DeadLetter[]>;
  /** Re-runs the consumer's handler (with the inbox) for one or every dead letter; deletes each that succeeds. */
  replay(id?: string): Promise<{ replayed: number; failed: number }>;
  /** Deletes one dead letter without running its handler; false when there was none with that id (gone already). */
  discard(id: string): Promise<boolean>;
  /** Outboxes, consumers and inboxes of this process, for the console (kernel/bus/stats.ts). */
  stats(): Promise<BusStats>;
}

export interface BusStats {
  adapter: 'in-process' | 'redis-streams';
  outboxes: Array<{ module: string; depth: number; oldestAgeSeconds: number }>;
  /** Per consumer and topic: events not yet applied (in-process: still in an outbox; Redis: not yet read by the group), read but unacknowledged (Redis), and counts since start. */
  consumers: Array<{ consumer: string; topic: string; lag: number | null; pending: number | null; handled: number; failures: number; deadLettered: number }>;
  inboxes: Array<{ module: string; size: number }>;
}
