// Typed topics: a topic is a name and a payload schema; publish type-checks the payload, a handler gets it parsed,
// and an event whose payload its topic's schema refuses never reaches the handler (it ends as a dead letter).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineTopic } from '../contract.ts';
import { defineModule } from '../module.ts';
import { startTestApp, waitFor } from '../testing/index.ts';
import { busMigrations } from './migrations.ts';
import { writeOutbox } from './outbox.ts';
import { asBusTables } from './tables.ts';
import { on, type Publisher } from './types.ts';

const COUNTED = defineTopic('tally.counted', z.object({ n: z.number().int(), at: z.coerce.date() }));

describe('typed topics', () => {
  it("defineTopic takes 'module.event' names only", () => {
    assert.throws(() => defineTopic('counted', z.object({})), /module\.event/);
    assert.throws(() => defineTopic('Tally.Counted', z.object({})), /module\.event/);
    assert.equal(defineTopic('tally.counted_twice', z.object({})).name, 'tally.counted_twice');
  });

  it('publish refuses a payload of the wrong shape, and on() types the handler by the topic (checked by tsc)', () => {
    const typed = (publisher: Publisher, trx: Parameters<Publisher['publish']>[0]) => {
      // @ts-expect-error n must be a number: the payload is checked against the topic's schema
      void publisher.publish(trx, COUNTED, { n: 'one', at: '2026-01-01' });
      void publisher.publish(trx, COUNTED, { n: 1, at: '2026-01-01' });
    };
    const sub = on(COUNTED, async ({ payload }) => {
      const n: number = payload.n;
      const at: Date = payload.at; // parsed: the schema's output type, not what was published
      void [n, at];
    });
    assert.equal(sub.topic, COUNTED);
    void typed;
  });

  it('a handler receives the payload as the schema parsed it; one the schema refuses becomes a dead letter, unhandled', async () => {
    const seen: Array<{ n: number; at: Date }> = [];
    const tally = defineModule({
      name: 'tally',
      description: 'counts',
      migrations: busMigrations,
      roles: {
        counter: {
          publishes: [COUNTED],
          subscribes: [COUNTED],
          create: () => ({ subscriptions: [on(COUNTED, async ({ payload }) => void seen.push(payload))] }),
        },
      },
    });
    const app = await startTestApp({ modules: [tally], env: { BUS_MAX_ATTEMPTS: '2', BUS_RETRY_BASE_MS: '1' } });
    try {
      const db = asBusTables(app.kernel.databases.get('tally')!.db);
      await writeOutbox(db, 'tally', COUNTED.name, { n: 1, at: '2026-12-07T10:00:00Z' });
      await writeOutbox(db, 'tally', COUNTED.name, { n: 'two', at: 'never' });
      const dead = await waitFor('a dead letter', async () => {
        const letters = await app.kernel.bus()!.deadLetters();
        return letters.length ? letters : undefined;
      });
      assert.equal(dead.length, 1);
      assert.deepEqual(dead[0].payload, { n: 'two', at: 'never' });
      assert.match(dead[0].error, /expected number/);
      assert.deepEqual(seen, [{ n: 1, at: new Date('2026-12-07T10:00:00Z') }]);
    } finally {
      await app.close();
    }
  });
});
