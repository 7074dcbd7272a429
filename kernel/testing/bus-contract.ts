// The one contract every bus adapter must pass; in-process.test.ts and redis-streams.test.ts run it.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createBus } from '../bus/index.ts';
import { outboxDepth, writeOutbox } from '../bus/outbox.ts';
import type { Bus, BusOptions, Publisher } from '../bus/types.ts';
import type { ModuleDatabase } from '../../db/database.ts';
import { appliedRows, randomId, recordingHandler, silentLog, topicNamed, type Databases } from './bus.ts';
import { deleteRedisKeys } from './services.ts';
import { waitFor } from './wait.ts';

export interface ContractTarget {
  name: string;
  /** Redis URL, or undefined for the in-process adapter. */
  url?: string;
  databases(): Promise<Databases>;
  /** From gate(): skip when a service is missing. */
  gate?: { skip?: string };
}

export async function counter(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

export function busContract(target: ContractTarget): void {
  describe(`bus contract: ${target.name}`, { skip: target.gate?.skip }, () => {
    const runPrefix = `cantons-test-${randomId()}`;
    let dbs: Databases;
    let n = 0;
    const buses: Bus[] = [];
    const topic = 'thing.happened';

    before(async () => {
      dbs = await target.databases();
    });
    beforeEach(() => {
      n++;
    });
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((b) => b.stop()));
      await dbs.closeAll();
    });
    after(async () => {
      await dbs?.dispose();
      if (target.url) await deleteRedisKeys(runPrefix);
    });

    const pubName = () => `p${n}`;
    const consumerMod = () => `c${n}`;
    function makeBus(extra: Partial<BusOptions> = {}) {
      const registry = new Registry();
      const bus = createBus({
        url: target.url,
        log: silentLog,
        metrics: registry,
        maxAttempts: 3,
        retryBaseMs: 5,
        pollMs: 20,
        claimIdleMs: 300,
        streamPrefix: `${runPrefix}-${n}`,
        ...extra,
      });
      buses.push(bus);
      return { bus, registry };
    }
    async function setup(extra: Partial<BusOptions> = {}) {
      const pub = await dbs.open(pubName());
      const cdb = await dbs.open(consumerMod());
      const { bus, registry } = makeBus(extra);
      const publisher = bus.publisher(pubName(), pub);
      const publish = (payload: unknown) => pub.db.transaction().execute((trx) => publisher.publish(trx, topicNamed(topic), payload));
      return { pub, cdb, bus, registry, publisher, publish };
    }
    const appliedIds = async (cdb: Parameters<typeof appliedRows>[0], consumer: string) => (await appliedRows(cdb, consumer)).map((r) => r.event_id);
    const waitApplied = (cdb: Parameters<typeof appliedRows>[0], consumer: string, ids: string[]) =>
      waitFor(`${ids.length} event(s) applied by ${consumer}`, async () => {
        const got = new Set(await appliedIds(cdb, consumer));
        return ids.every((id) => got.has(id));
      });

    it('delivers an event published in a committed transaction exactly once to each subscriber', async () => {
      const { pub, cdb, bus, registry, publish } = await setup();
      const a = `${consumerMod()}.alpha`;
      const b = `${consumerMod()}.beta`;
      bus.subscribe(a, cdb, topic, recordingHandler(a));
      bus.subscribe(b, cdb, topic, recordingHandler(b));
      await bus.start();
      const first = await publish({ n: 1, text: 'héllo' });
      const marker = await publish({ n: 2 });
      await waitApplied(cdb, a, [first, marker]);
      await waitApplied(cdb, b, [first, marker]);
      for (const c of [a, b]) {
        const rows = await appliedRows(cdb, c);
        assert.deepEqual(
          rows.map((r) => r.event_id),
          [first, marker],
          `${c} applied each event once, in order`,
        );
        assert.deepEqual(JSON.parse(rows[0].payload), { n: 1, text: 'héllo' });
      }
      assert.equal(await counter(registry, 'cantons_bus_events_handled_total'), 4);
      await waitFor('outbox empty', async () => (await outboxDepth(pub)) === 0);
      const text = await registry.metrics();
      assert.match(text, new RegExp(`cantons_outbox_depth\\{module="${pubName()}"\\} 0`));
      assert.match(text, new RegExp(`cantons_outbox_oldest_age_seconds\\{module="${pubName()}"\\} 0`));
      assert.match(text, new RegExp(`cantons_bus_lag_seconds_count\\{consumer="${a}"\\} 2`));
    });

    it('never delivers an event whose transaction rolled back', async () => {
      const { pub, cdb, bus, publisher, publish } = await setup();
      const c = `${consumerMod()}.worker`;
      bus.subscribe(c, cdb, topic, recordingHandler(c));
      await bus.start();
      await assert.rejects(
        pub.db.transaction().execute(async (trx) => {
          await publisher.publish(trx, topicNamed(topic), { rolled: 'back' });
          throw new Error('business rule failed');
        }),
        /business rule failed/,
      );
      const marker = await publish({ committed: true });
      await waitApplied(cdb, c, [marker]);
      assert.deepEqual(await appliedIds(cdb, c), [marker]);
      // Consumers apply before the relay deletes the rows: emptiness follows shortly after.
      await waitFor('outbox empty', async () => (await outboxDepth(pub)) === 0);
    });

    it('applies a redelivered event only once (inbox)', async () => {
      const { pub, cdb, bus, registry, publish } = await setup();
      const c = `${consumerMod()}.worker`;
      bus.subscribe(c, cdb, topic, recordingHandler(c));
      await bus.start();
      const id = await publish({ v: 1 });
      await waitApplied(cdb, c, [id]);
      await waitFor('outbox empty', async () => (await outboxDepth(pub)) === 0);
      // A relay that crashed after delivering but before deleting its row delivers the same event again.
      await writeOutbox(pub.db, pubName(), topic, { v: 1 }, id);
      const marker = await publish({ v: 2 });
      await waitApplied(cdb, c, [marker]);
      await waitFor('the duplicate to be seen', async () => (await counter(registry, 'cantons_bus_duplicates_total')) === 1);
      assert.deepEqual(await appliedIds(cdb, c), [id, marker]);
      assert.equal(await counter(registry, 'cantons_bus_events_handled_total'), 2);
    });

    it('retries a failing handler with backoff and applies the event once when it recovers', async () => {
      const { cdb, bus, registry, publish } = await setup();
      const c = `${consumerMod()}.worker`;
      let calls = 0;
      bus.subscribe(
        c,
        cdb,
        topic,
        recordingHandler(c, () => {
          if (++calls <= 2) throw new Error(`transient failure ${calls}`);
        }),
      );
      await bus.start();
      const id = await publish({ v: 1 });
      await waitApplied(cdb, c, [id]);
      assert.equal(calls, 3);
      assert.deepEqual(await appliedIds(cdb, c), [id]);
      assert.equal(await counter(registry, 'cantons_bus_handler_failures_total'), 2);
      assert.deepEqual(await bus.deadLetters(), []);
    });

    it('dead-letters an event after maxAttempts; replay (all or one) applies it once the handler is fixed', async () => {
      const { cdb, bus, registry, publish } = await setup();
      const c = `${consumerMod()}.worker`;
      let broken = true;
      let calls = 0;
      bus.subscribe(
        c,
        cdb,
        topic,
        recordingHandler(c, () => {
          calls++;
          if (broken) throw new Error('handler bug');
        }),
      );
      await bus.start();
      const first = await publish({ v: 1 });
      const second = await publish({ v: 2 });
      const letters = await waitFor('two dead letters', async () => {
        const list = await bus.deadLetters();
        return list.length === 2 && list;
      });
      assert.equal(calls, 6, 'three attempts per event');
      assert.equal(await counter(registry, 'cantons_bus_dead_letters_total'), 2);
      const d = letters.find((l) => l.eventId === first)!;
      assert.equal(d.consumer, c);
      assert.equal(d.module, consumerMod());
      assert.equal(d.topic, topic);
      assert.deepEqual(d.payload, { v: 1 });
      assert.equal(d.attempts, 3);
      assert.match(d.error, /handler bug/);
      assert.ok(!Number.isNaN(Date.parse(d.failedAt)));
      assert.deepEqual(await appliedIds(cdb, c), []);

      // Still broken: replay fails, and the dead letters stay with one more attempt counted.
      assert.deepEqual(await bus.replay(), { replayed: 0, failed: 2 });
      assert.deepEqual(
        (await bus.deadLetters()).map((l) => l.attempts),
        [4, 4],
      );

      broken = false;
      assert.deepEqual(await bus.replay(d.id), { replayed: 1, failed: 0 });
      assert.deepEqual(
        (await bus.deadLetters()).map((l) => l.eventId),
        [second],
      );
      assert.deepEqual(await bus.replay(), { replayed: 1, failed: 0 });
      assert.deepEqual(await bus.deadLetters(), []);
      assert.deepEqual((await appliedIds(cdb, c)).sort(), [first, second].sort());
      assert.deepEqual(await bus.replay(), { replayed: 0, failed: 0 });
      assert.deepEqual(await bus.replay('no-such-id'), { replayed: 0, failed: 0 });
    });

    it('delivers events left in the outbox by a stopped bus once a new bus instance starts', async () => {
      const { pub, cdb, bus, publish } = await setup();
      const c = `${consumerMod()}.worker`;
      bus.subscribe(c, cdb, topic, recordingHandler(c));
      await bus.start();
      await bus.stop();
      const ids = [await publish({ i: 1 }), await publish({ i: 2 }), await publish({ i: 3 })];
      assert.equal(await outboxDepth(pub), 3, 'nothing relays while the bus is stopped');
      assert.deepEqual(await appliedIds(cdb, c), []);

      const pub2 = await dbs.open(pubName());
      const cdb2 = await dbs.open(consumerMod());
      const { bus: bus2 } = makeBus();
      bus2.publisher(pubName(), pub2);
      bus2.subscribe(c, cdb2, topic, recordingHandler(c));
      await bus2.start();
      await waitApplied(cdb2, c, ids);
      await waitFor('outbox empty', async () => (await outboxDepth(pub2)) === 0);
      assert.deepEqual(await appliedIds(cdb2, c), ids);
    });

    it('two relays on the same outbox deliver each event once', async () => {
      const c = `${consumerMod()}.worker`;
      const sides: Array<{ pub: ModuleDatabase; cdb: ModuleDatabase; bus: Bus; registry: Registry; publisher: Publisher }> = [];
      let shared: [ModuleDatabase, ModuleDatabase] | undefined;
      for (let i = 0; i < 2; i++) {
        // Postgres: separate pools on the same schemas, as two processes of a split deployment have.
        // SQLite: one connection each, shared by both buses — two better-sqlite3 connections in ONE
        // process deadlock (the busy wait blocks the event loop the lock holder needs to commit).
        if (!shared || dbs.kind === 'postgres') shared = [await dbs.open(pubName()), await dbs.open(consumerMod())];
        const [pub, cdb] = shared;
        const { bus, registry } = makeBus({ pollMs: 10 });
        const publisher = bus.publisher(pubName(), pub);
        bus.subscribe(c, cdb, topic, recordingHandler(c));
        sides.push({ pub, cdb, bus, registry, publisher });
      }
      await Promise.all(sides.map((s) => s.bus.start()));
      const ids: string[] = [];
      await Promise.all(
        sides.map(async (s, i) => {
          for (let k = 0; k < 30; k++) {
            ids.push(await s.pub.db.transaction().execute((trx) => s.publisher.publish(trx, topicNamed(topic), { side: i, k })));
            // Rows no relay was nudged for: both relays find them by polling, and race for them.
            if (k % 3 === 0) ids.push(await writeOutbox(s.pub.db, pubName(), topic, { side: i, k, polled: true }));
          }
        }),
      );
      await waitApplied(sides[0].cdb, c, ids);
      const applied = await appliedIds(sides[0].cdb, c);
      assert.equal(applied.length, ids.length, 'no event applied twice');
      assert.equal(new Set(applied).size, ids.length);
      let handled = 0;
      let duplicates = 0;
      for (const s of sides) {
        handled += await counter(s.registry, 'cantons_bus_events_handled_total');
        duplicates += await counter(s.registry, 'cantons_bus_duplicates_total');
      }
      assert.equal(duplicates, 0, 'no event was even delivered twice');
      assert.equal(handled, ids.length);
      await waitFor('outbox empty', async () => (await outboxDepth(sides[0].pub)) === 0);
    });

    it('stop() flushes rows still pending in the outbox', async () => {
      // A long poll and no nudge: only stop()'s flush can move these rows.
      const { pub, cdb, bus } = await setup({ pollMs: 60_000 });
      const c = `${consumerMod()}.worker`;
      bus.subscribe(c, cdb, topic, recordingHandler(c));
      await bus.start();
      await new Promise((r) => setTimeout(r, 50));
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await writeOutbox(pub.db, pubName(), topic, { i }));
      assert.equal(await outboxDepth(pub), 5);
      const t0 = Date.now();
      await bus.stop();
      assert.ok(Date.now() - t0 < 5000, 'stop is bounded');
      assert.equal(await outboxDepth(pub), 0, 'stop flushed the outbox');
      if (!target.url) assert.deepEqual(await appliedIds(cdb, c), ids, 'in-process: applied before stop returned');

      // Over Redis the events now wait in the stream for the consumer group, whoever runs it next.
      const cdb2 = await dbs.open(consumerMod());
      const { bus: bus2 } = makeBus();
      bus2.subscribe(c, cdb2, topic, recordingHandler(c));
      await bus2.start();
      await waitApplied(cdb2, c, ids);
      assert.deepEqual(await appliedIds(cdb2, c), ids);
    });
  });
}
