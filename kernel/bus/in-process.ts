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
          // This consumer's events in outbox order, in runs of one subscription (one transaction per run).
          const mine = events.filter((e) => topics.has(e.topic));
          const settled = new Set<string>();
          let start = 0;
          try {
            while (start < mine.length) {
              const sub = topics.get(mine[start].topic)!;
              let end = start + 1;
              while (end < mine.length && topics.get(mine[end].topic) === sub) end++;
              await consumer.deliverMany(sub, mine.slice(start, end), (e) => settled.add(e.id));
              start = end;
            }
          } catch (err) {
            // Keep this consumer's order: once one event could not even be dead-lettered, leave the rest for later.
            const first = mine.find((e) => !settled.has(e.id));
            log.error(
              { err, eventId: first?.id, topic: first?.topic, consumer: first && topics.get(first.topic)?.consumer },
              'cannot deliver event (consumer database unavailable?)',
            );
          }
          for (const e of mine) if (!settled.has(e.id)) undelivered.add(e.id);
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
