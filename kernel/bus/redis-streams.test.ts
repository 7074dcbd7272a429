// The bus contract over Redis Streams (consumer groups), plus what only Redis has: groups created late, crashed members.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { busContract } from '../testing/bus-contract.ts';
import { appliedRows, postgresDatabases, randomId, recordingHandler, silentLog, sqliteDatabases, topicNamed, type Databases } from '../testing/bus.ts';
import { deleteRedisKeys, gate, REDIS_URL, waitFor } from '../testing/index.ts';
import { createBus } from './index.ts';
import { outboxDepth } from './outbox.ts';
import type { Bus, BusEvent } from './types.ts';

const redisGate = await gate('redis');
const bothGate = await gate('redis', 'postgres');

busContract({ name: 'Redis Streams on SQLite', url: REDIS_URL, databases: async () => sqliteDatabases(), gate: redisGate });
busContract({
  name: 'Redis Streams on Postgres',
  url: REDIS_URL,
  databases: postgresDatabases,
  gate: bothGate,
});

describe('Redis Streams specifics', { skip: redisGate.skip }, () => {
  const prefix = `cantons-test-${randomId()}`;
  const topic = 'thing.happened';
  let dbs: Databases;
  let redis: Redis;
  const buses: Bus[] = [];
  const bus = (extra: { claimIdleMs?: number; streamPrefix?: string; url?: string } = {}) => {
    const b = createBus({
      url: REDIS_URL,
      log: silentLog,
      metrics: new Registry(),
      maxAttempts: 3,
      retryBaseMs: 5,
      pollMs: 20,
      streamPrefix: prefix,
      ...extra,
    });
    buses.push(b);
    return b;
  };

  before(async () => {
    dbs = sqliteDatabases();
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.stop()));
    await dbs.closeAll();
  });
  after(async () => {
    await dbs?.dispose();
    await deleteRedisKeys(prefix);
    redis?.disconnect();
  });

  it('delivers events XADDed before the consumer group existed', async () => {
    const pub = await dbs.open('early-pub');
    const cdb = await dbs.open('early');
    const producer = bus();
    const publisher = producer.publisher('early-pub', pub);
    await producer.start();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await pub.db.transaction().execute((trx) => publisher.publish(trx, topicNamed('early.topic'), { i })));
    await waitFor('outbox relayed to the stream', async () => (await outboxDepth(pub)) === 0);
    assert.equal(await redis.xlen(`${prefix}:early.topic`), 3);
    await producer.stop();

    const consumer = bus();
    consumer.subscribe('early.worker', cdb, 'early.topic', recordingHandler('early.worker'));
    await consumer.start();
    await waitFor('3 applied', async () => (await appliedRows(cdb)).length === 3);
    assert.deepEqual(
      (await appliedRows(cdb)).map((r) => r.event_id),
      ids,
    );
  });

  it('reclaims entries a crashed group member read but never acknowledged', async () => {
    const cdb = await dbs.open('reclaim');
    const key = `${prefix}:${topic}`;
    const group = 'reclaim.worker';
    await redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
    const event: BusEvent = { id: randomId(), topic, payload: { lost: false }, createdAt: new Date().toISOString(), source: 'test' };
    await redis.xadd(key, '*', 'event', JSON.stringify(event));
    // A member that read the entry and died before XACK.
    const read = await redis.xreadgroup('GROUP', group, 'crashed-member', 'COUNT', 10, 'STREAMS', key, '>');
    assert.ok(read, 'the crashed member took the entry');
    assert.equal(((await redis.xpending(key, group)) as [number])[0], 1);

    const b = bus({ claimIdleMs: 150 });
    b.subscribe(group, cdb, topic, recordingHandler(group));
    await b.start();
    await waitFor('reclaimed entry applied', async () => (await appliedRows(cdb)).length === 1, 5000);
    assert.equal((await appliedRows(cdb))[0].event_id, event.id);
    await waitFor('entry acknowledged', async () => ((await redis.xpending(key, group)) as [number])[0] === 0);
  });

  it('acknowledges and skips an unreadable stream entry instead of blocking the group', async () => {
    const cdb = await dbs.open('poison');
    const key = `${prefix}:poison.topic`;
    await redis.xadd(key, '*', 'event', '{not json');
    const good: BusEvent = { id: randomId(), topic: 'poison.topic', payload: 1, createdAt: new Date().toISOString(), source: 'test' };
    await redis.xadd(key, '*', 'event', JSON.stringify(good));
    const b = bus();
    b.subscribe('poison.worker', cdb, 'poison.topic', recordingHandler('poison.worker'));
    await b.start();
    await waitFor('good entry applied', async () => (await appliedRows(cdb)).length === 1);
    await waitFor('both acknowledged', async () => ((await redis.xpending(key, 'poison.worker')) as [number])[0] === 0);
  });

  it('/metrics shows the stream lag and pending entries', async () => {
    const pub = await dbs.open('lagpub');
    const cdb = await dbs.open('lag');
    const registry = new Registry();
    const b = createBus({ url: REDIS_URL, log: silentLog, metrics: registry, maxAttempts: 1, retryBaseMs: 5, pollMs: 20, streamPrefix: prefix });
    buses.push(b);
    const publisher = b.publisher('lagpub', pub);
    b.subscribe('lag.worker', cdb, 'lag.topic', recordingHandler('lag.worker'));
    await b.start();
    const id = await pub.db.transaction().execute((trx) => publisher.publish(trx, topicNamed('lag.topic'), {}));
    await waitFor('applied', async () => (await appliedRows(cdb)).some((r) => r.event_id === id));
    const text = await waitFor('acknowledged', async () => {
      const t = await registry.metrics();
      return /cantons_bus_stream_pending\{consumer="lag.worker",topic="lag.topic"\} 0/.test(t) && t;
    });
    assert.match(text, /cantons_bus_stream_lag\{consumer="lag.worker",topic="lag.topic"\} 0/);
    assert.match(text, /cantons_outbox_depth\{module="lagpub"\} 0/);
  });

  it('ready() answers true when Redis answers and false (quickly) when it does not', async () => {
    assert.equal(await bus().ready(), true);
    const down = bus({ url: 'redis://127.0.0.1:1' });
    const t0 = Date.now();
    assert.equal(await down.ready(), false);
    assert.ok(Date.now() - t0 < 3000);
  });
});

describe('Redis Streams with Redis down', () => {
  it('keeps events in the outbox, reports not ready, and stops within bounds', async () => {
    const dbs = sqliteDatabases();
    try {
      const pub = await dbs.open('downpub');
      const cdb = await dbs.open('down');
      const b = createBus({
        url: 'redis://127.0.0.1:1',
        log: silentLog,
        metrics: new Registry(),
        maxAttempts: 1,
        retryBaseMs: 5,
        pollMs: 20,
        streamPrefix: `cantons-test-${randomId()}`,
        flushTimeoutMs: 2000,
      });
      const publisher = b.publisher('downpub', pub);
      b.subscribe('down.worker', cdb, 'down.topic', recordingHandler('down.worker'));
      await b.start();
      await pub.db.transaction().execute((trx) => publisher.publish(trx, topicNamed('down.topic'), { kept: true }));
      assert.equal(await b.ready(), false);
      const t0 = Date.now();
      await b.stop();
      assert.ok(Date.now() - t0 < 4000, `stop took ${Date.now() - t0} ms`);
      assert.equal(await outboxDepth(pub), 1, 'the undelivered event stays in the outbox for the next start');
    } finally {
      await dbs.dispose();
    }
  });
});
