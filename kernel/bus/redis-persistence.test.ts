// What the bus needs of Redis: AOF. An ephemeral Redis is refused (BUS_EPHEMERAL_REDIS=refuse), warned about, or accepted.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { redisServerInstalled, startRedisServer, type RedisServer } from '../testing/bus-redis.ts';
import { randomId, recordingHandler, appliedRows, sqliteDatabases, topicNamed, type Databases } from '../testing/bus.ts';
import { waitFor } from '../testing/index.ts';
import { createBus } from './index.ts';
import { outboxDepth } from './outbox.ts';
import type { Bus, BusOptions } from './types.ts';

const installed = await redisServerInstalled();

describe("the bus and its Redis's persistence", { skip: installed ? undefined : 'redis-server is not installed' }, () => {
  let ephemeral: RedisServer;
  let persistent: RedisServer;
  let dbs: Databases;
  const buses: Bus[] = [];
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const bus = (url: string, ephemeralRedis?: BusOptions['ephemeralRedis']) => {
    const b = createBus({ url, log, metrics: new Registry(), maxAttempts: 2, retryBaseMs: 5, pollMs: 20, streamPrefix: `p-${randomId()}`, ephemeralRedis });
    buses.push(b);
    return b;
  };

  before(async () => {
    [ephemeral, persistent] = await Promise.all([startRedisServer({ appendonly: false }), startRedisServer({ appendonly: true })]);
    dbs = sqliteDatabases();
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.stop()));
    await dbs.closeAll();
    lines.length = 0;
  });
  after(async () => {
    await dbs?.dispose();
    await ephemeral?.close();
    await persistent?.close();
  });

  it('refuse: start-up fails on a Redis without appendonly, naming the fix', async () => {
    const b = bus(ephemeral.url, 'refuse');
    await assert.rejects(
      b.start(),
      (err: Error) => /without appendonly/.test(err.message) && /--appendonly yes/.test(err.message) && /BUS_EPHEMERAL_REDIS=accept/.test(err.message),
    );
    assert.equal(await b.ready(), false);
  });

  it('refuse: a persistent Redis is used; after a restart without AOF nothing is relayed, and the outbox keeps the event', async () => {
    const pub = await dbs.open(`pub${randomId()}`);
    const sub = await dbs.open(`sub${randomId()}`);
    const b = bus(persistent.url, 'refuse');
    const publisher = b.publisher('pub', pub);
    b.subscribe('sub.role', sub, 'a.topic', recordingHandler('sub.role'));
    await b.start();
    assert.equal(await b.ready(), true);
    await pub.db.transaction().execute((trx) => publisher.publish(trx, topicNamed('a.topic'), { n: 1 }));
    await waitFor('applied', async () => (await appliedRows(sub)).length === 1, 10_000);

    // The same Redis comes back without its AOF: it would lose what it is handed.
    await persistent.kill();
    await persistent.restart({ appendonly: false });
    await waitFor('not ready', async () => !(await b.ready()), 10_000);
    await pub.db.transaction().execute((trx) => publisher.publish(trx, topicNamed('a.topic'), { n: 2 }));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await outboxDepth(pub), 1, 'the event waits in the outbox, not in a Redis that forgets');
    assert.ok(
      lines.some((l) => l.level >= 50 && /not relaying/.test(l.msg)),
      'an error line says why',
    );

    // Back with AOF: relayed and applied.
    await persistent.kill();
    await persistent.restart({ appendonly: true });
    await waitFor('relayed after the fix', async () => (await appliedRows(sub)).length === 2, 15_000);
    // The relay deletes its rows after Redis has taken them, so the consumer may apply first.
    await waitFor('the outbox emptied', async () => (await outboxDepth(pub)) === 0, 5_000);
  });

  it('warn (the default): starts on an ephemeral Redis, with an error line at start', async () => {
    const b = bus(ephemeral.url);
    await b.start();
    assert.equal(await b.ready(), true);
    await waitFor('error logged', () => lines.some((l) => l.level >= 50 && /without appendonly/.test(l.msg)));
  });

  it('accept: starts quietly (an info line)', async () => {
    const b = bus(ephemeral.url, 'accept');
    await b.start();
    await waitFor('info logged', () => lines.some((l) => l.level === 30 && /without appendonly/.test(l.msg)));
    assert.ok(!lines.some((l) => l.level >= 40));
  });

  it('a persistent Redis: an info line naming appendfsync', async () => {
    const b = bus(persistent.url, 'refuse');
    await b.start();
    await waitFor('info logged', () => lines.some((l) => l.level === 30 && /persists \(appendonly yes, appendfsync everysec\)/.test(l.msg)));
  });
});
