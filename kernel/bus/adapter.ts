// What createBus needs from a transport: a sink for the relays, and consumers to run.
import type { Subscription } from './consumer.ts';
import type { StreamSample } from './metrics.ts';
import type { Sink } from './relay.ts';

export interface Adapter {
  /** Relays hand their claimed batches here. */
  sink: Sink;
  /** Called for each subscription, before or after start(). */
  subscribe(sub: Subscription): void;
  start(): Promise<void>;
  /** Called after the relays flushed: stop consuming, close connections. */
  stop(): Promise<void>;
  ready(): Promise<boolean>;
  /** Per consumer group and topic: entries not yet read, and read but not acknowledged (Redis only). */
  streamStats?(): Promise<StreamSample[]>;
}
