// The event bus seen from a module: publish inside your transaction, subscribe with a handler.
import type { Kysely, Transaction } from 'kysely';

export interface BusEvent<P = unknown> {
  /** UUID; consumers record it in their inbox so a redelivery changes nothing. */
  id: string;
  topic: string;
  payload: P;
  /** ISO-8601 UTC, when the publishing transaction wrote it to the outbox. */
  createdAt: string;
  /** The publishing module. */
  source: string;
}

/**
 * Runs inside a transaction of the consuming module's database, in which the kernel has already
 * recorded `event.id` in the inbox: commit applies both, a throw rolls both back and the event is retried.
 */
export type EventHandler<P = unknown> = (event: BusEvent<P>, trx: Transaction<any>) => Promise<void>;

export interface Publisher {
  /** Writes the event to the module's outbox in `trx` (the caller's transaction); the relay delivers it after commit. */
  publish<P>(trx: Transaction<any> | Kysely<any>, topic: string, payload: P): Promise<string>;
}
