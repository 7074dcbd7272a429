// The in-process adapter: a relay hands each event straight to the local subscribers of its topic.
import type { Logger } from 'pino';
import type { Adapter } from './adapter.ts';
import type { Consumer, Subscription } from './consumer.ts';
import type { BusEvent } from './types.ts';

export function inProcessAdapter(consumer: Consumer, log: Logger): Adapter {
  // consumer name → topic → subscription
  const byConsumer = new Map<string, Map<string, Subscription>>();

  return {
    subscribe(sub) {
      let topics = byConsumer.get(sub.consumer);
      if (!topics) byConsumer.set(sub.consumer, (topics = new Map()));
      topics.set(sub.topic, sub);
    },

    // The outbox row is deleted only once every subscriber applied or dead-lettered the event, so a crash
    // loses nothing. Consumers run side by side; each one takes the batch in outbox order.
    async sink(events: BusEvent[]) {
      const undelivered = new Set<string>();
      await Promise.all(
        [...byConsumer.values()].map(async (topics) => {
          let broken = false;
          for (const event of events) {
            const sub = topics.get(event.topic);
            if (!sub) continue;
            // Keep this consumer's order: once one event could not even be dead-lettered, leave the rest for later.
            if (broken) {
              undelivered.add(event.id);
              continue;
            }
            try {
              await consumer.deliver(sub, event);
            } catch (err) {
              broken = true;
              undelivered.add(event.id);
              log.error({ err, eventId: event.id, topic: event.topic, consumer: sub.consumer }, 'cannot deliver event (consumer database unavailable?)');
            }
          }
        }),
      );
      return events.filter((e) => !undelivered.has(e.id)).map((e) => e.id);
    },

    async start() {},
    async stop() {},
    async ready() {
      return true;
    },
  };
}
