// The informer against a real etcd: list + watch, revision ordering, tombstones, outage, compaction while lagging.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { gate, waitFor } from '../../../kernel/testing/index.ts';
import { createLogger } from '../../../kernel/logger.ts';
import { createEtcdClient } from './etcd-client.ts';
import { Informer, nextPageSize, type InformerOptions } from './informer.ts';
import { startEtcd, type EtcdServer } from '../../../kernel/testing/etcd.ts';
import { startProxy } from '../testing/proxy.ts';

const withEtcd = await gate('etcd');
const log = createLogger('silent');
const resync = { baseMs: 20, maxMs: 200, checkMs: 200 };

describe('informer (real etcd)', withEtcd, () => {
  let etcd: EtcdServer;
  let writer: Etcd3;
  let n = 0;
  const open: Array<{ close(): unknown }> = [];
  const prefix = () => `inf-${process.pid}-${++n}/`;
  const informer = (url: string, p: string, paging: Pick<InformerOptions, 'pageSize' | 'pageBytes'> = { pageSize: 3 }, spy?: (client: Etcd3) => void) => {
    const client = createEtcdClient({ ETCD_URL: [url], CACHE_ETCD_TIMEOUT_MS: 1000 });
    spy?.(client);
    const inf = new Informer({ client, prefix: p, log, resync, ...paging });
    open.push({
      close: async () => {
        await inf.close();
        client.close();
      },
    });
    inf.start();
    return inf;
  };

  before(async () => {
    etcd = await startEtcd();
    writer = etcd.client();
  });
  after(async () => {
    for (const o of open.reverse()) await o.close();
    await etcd?.close();
  });

  test('lists what exists (across pages), then follows puts and deletes', async () => {
    const p = prefix();
    for (let i = 0; i < 7; i++) await writer.put(`${p}k${i}`).value(JSON.stringify(i));
    await writer.put(`outside-${p}`).value('"not mine"');
    const inf = informer(etcd.url, p);
    await waitFor('first list', () => inf.ready());
    assert.equal(inf.size, 7);
    assert.equal(inf.get('k6')?.json, '6');
    await waitFor('live', () => !inf.stale());

    await writer.put(`${p}k0`).value('"changed"');
    await writer.delete().key(`${p}k1`);
    await writer.put(`${p}new/nested`).value('{"a":1}');
    await waitFor('watch events', () => inf.get('new/nested')?.json === '{"a":1}');
    assert.equal(inf.get('k0')?.json, '"changed"');
    assert.equal(inf.get('k1'), undefined);
    assert.equal(inf.size, 7);
    assert.deepEqual(inf.keys().sort(), ['k0', 'k2', 'k3', 'k4', 'k5', 'k6', 'new/nested']);
  });

  /** Every list request's `count`: how many keys etcd walked to answer it (from the page's start to the range's end). */
  const countRanges = (tally: { requests: number; counted: number; largestPage: number }) => (client: Etcd3) => {
    const range = client.kv.range.bind(client.kv);
    client.kv.range = async (req) => {
      const res = await range(req);
      if (!req.keys_only && !req.count_only) {
        tally.requests++;
        tally.counted += Number(res.count);
        tally.largestPage = Math.max(
          tally.largestPage,
          res.kvs.reduce((sum, kv) => sum + kv.value.length, 0),
        );
      }
      return res;
    };
  };

  test('the first list of many keys makes etcd count each key a few times, not once per page (linear, not quadratic)', async () => {
    const p = prefix();
    const keys = 20_000;
    for (let i = 0; i < keys; i += 128) {
      const success = [];
      for (let j = i; j < Math.min(keys, i + 128); j++)
        success.push({ request_put: { key: Buffer.from(`${p}k${j}`), value: Buffer.from(JSON.stringify(`value ${j}`)) } });
      await writer.kv.txn({ compare: [], success, failure: [] });
    }
    const tally = { requests: 0, counted: 0, largestPage: 0 };
    const inf = informer(etcd.url, p, {}, countRanges(tally));
    await waitFor('first list', () => inf.ready(), 20_000);
    assert.equal(inf.size, keys);
    assert.equal(inf.get('k19999')?.json, '"value 19999"');
    // Fixed pages of 500 walked 20k + 19.5k + … = 20.5 × 20k keys; pages sized by bytes walk about 2.5 × 20k.
    assert.ok(tally.counted <= 4 * keys, `etcd counted ${tally.counted} keys over ${tally.requests} pages to list ${keys}`);
  });

  test('pages follow the bytes: large values make small pages, and every key is listed once', async () => {
    const p = prefix();
    const big = JSON.stringify('x'.repeat(100 * 1024));
    for (let i = 0; i < 40; i++) await writer.put(`${p}a${String(i).padStart(2, '0')}`).value('1');
    for (let i = 0; i < 20; i++) await writer.put(`${p}b${String(i).padStart(2, '0')}`).value(big);
    const tally = { requests: 0, counted: 0, largestPage: 0 };
    const inf = informer(etcd.url, p, { pageSize: 10, pageBytes: 256 * 1024 }, countRanges(tally));
    await waitFor('first list', () => inf.ready());
    assert.equal(inf.size, 60);
    assert.equal(inf.get('b19')?.json, big);
    // 10 small values, then at most 4× as many keys (30 small, 10 large: 1 MiB), then 256 KiB ÷ 100 KiB-sized pages:
    // growth is bounded where the values jump from 1 byte to 100 KiB, and the pages shrink at once after it.
    assert.ok(tally.largestPage <= 4 * 256 * 1024, `largest page ${tally.largestPage} bytes`);
    assert.ok(tally.requests >= 3, `${tally.requests} pages`);
  });

  test('nextPageSize: scales to the target, grows at most 4×, shrinks at once, never below one key', () => {
    assert.equal(nextPageSize(1000, 1000, 100_000, 4_000_000), 4000);
    assert.equal(nextPageSize(1000, 1000, 2_000_000, 4_000_000), 2000);
    assert.equal(nextPageSize(1000, 1000, 40_000_000, 4_000_000), 100);
    assert.equal(nextPageSize(10, 10, 10 * 1024 * 1024, 1024), 1);
    assert.equal(nextPageSize(1000, 10, 100, 4_000_000), 1000, 'a short page (the end of the range) says nothing');
  });

  test('a newer local observation is not undone by an older watch event, nor a delete by an older put', async () => {
    const p = prefix();
    const inf = informer(etcd.url, p);
    await waitFor('live', () => !inf.stale());
    const head = Number((await writer.put(`${p}other`).value('0').exec()).header.revision);
    // As if this instance had written "mine" at a revision the watch has not reached yet.
    inf.observe('k', '"mine"', head + 3);
    inf.observe('gone', undefined, head + 3);
    await writer.put(`${p}k`).value('"older"');
    await writer.put(`${p}gone`).value('"older"');
    await waitFor('watch passes head+2', () => inf.syncedRevision >= head + 2);
    assert.equal(inf.get('k')?.json, '"mine"');
    assert.equal(inf.get('gone'), undefined);
    // A genuinely newer write wins again.
    await writer.put(`${p}filler`).value('0');
    await writer.put(`${p}k`).value('"newest"');
    await waitFor('newest', () => inf.get('k')?.json === '"newest"');
  });

  test('an observation older than what the watch has applied is ignored (no resurrection)', async () => {
    const p = prefix();
    const inf = informer(etcd.url, p);
    await waitFor('live', () => !inf.stale());
    const put = Number((await writer.put(`${p}k`).value('"v"').exec()).header.revision);
    await writer.delete().key(`${p}k`);
    await waitFor('delete applied', () => inf.syncedRevision > put);
    inf.observe('k', '"v"', put); // a write response that arrives after the watch has moved on
    assert.equal(inf.get('k'), undefined);
  });

  test('etcd killed: stale while down; after a restart on the same data dir it relists and converges', async () => {
    const p = prefix();
    await writer.put(`${p}a`).value('"before"');
    const inf = informer(etcd.url, p);
    await waitFor('live', () => !inf.stale());
    const resyncs = inf.resyncs;
    await etcd.kill();
    await waitFor('stale after kill', () => inf.stale(), 5000);
    assert.equal(inf.get('a')?.json, '"before"', 'the last known value is still served');
    await etcd.restart();
    await writer.put(`${p}a`).value('"after"');
    await waitFor('converged after restart', () => !inf.stale() && inf.get('a')?.json === '"after"', 15_000);
    assert.ok(inf.resyncs > resyncs);
  });

  test('a watch that stops delivering while it looks connected is found out: stale, then relisted once the link recovers', async () => {
    const p = prefix();
    const host = new URL(etcd.url);
    const proxy = await startProxy({ host: host.hostname, port: Number(host.port) });
    open.push(proxy);
    const inf = informer(proxy.url, p);
    await waitFor('live', () => !inf.stale());
    const resyncs = inf.resyncs;

    proxy.stall();
    await writer.put(`${p}k`).value('"written while stalled"');
    await waitFor('stale', () => inf.stale(), 5000);
    assert.equal(inf.get('k'), undefined, 'the stalled watch never delivered the write');
    proxy.resume();
    await waitFor('converged', () => !inf.stale() && inf.get('k')?.json === '"written while stalled"', 10_000);
    assert.ok(inf.resyncs > resyncs);
  });

  /** The watch checks' requests: the one-key revision probes, and the sorted reads of the newest revision under the prefix. */
  const countChecks = (tally: { probes: number; sorted: number }) => (client: Etcd3) => {
    const range = client.kv.range.bind(client.kv);
    client.kv.range = (req) => {
      if (req.count_only) tally.probes++;
      if (req.sort_target === 'Mod') tally.sorted++;
      return range(req);
    };
  };

  /** Seeds `keys` keys under `p`, 128 to a transaction (etcd's --max-txn-ops). */
  const seed = async (p: string, keys: number) => {
    for (let i = 0; i < keys; i += 128) {
      const success = [];
      for (let j = i; j < Math.min(keys, i + 128); j++) success.push({ request_put: { key: Buffer.from(`${p}k${j}`), value: Buffer.from('1') } });
      await writer.kv.txn({ compare: [], success, failure: [] });
    }
  };

  test('a caught-up watch is checked without the sorted read of the prefix; a write elsewhere costs one sorted read', async () => {
    const p = prefix();
    await seed(p, 3000);
    const tally = { probes: 0, sorted: 0 };
    const inf = informer(etcd.url, p, {}, countChecks(tally));
    await waitFor('live', () => !inf.stale(), 10_000);
    const checks = async (what: string, n = 3) => {
      const from = tally.probes;
      await waitFor(what, () => tally.probes >= from + n, 5000);
    };

    await checks('idle checks');
    assert.equal(tally.sorted, 0, 'an idle informer, caught up since its list, sorts nothing');

    // Writes under the prefix still propagate, and the watch has delivered them by the next check: no sorted read.
    await writer.put(`${p}k1`).value('"changed"');
    await writer.delete().key(`${p}k2`);
    await waitFor('propagated', () => inf.get('k1')?.json === '"changed"' && inf.get('k2') === undefined);
    await checks('checks after the writes');
    assert.equal(tally.sorted, 0, 'writes the watch delivered cost no sorted read');

    // A write to another prefix moves etcd's revision past what the watch delivered: one sorted read, then O(1) again.
    await writer.put(`other-${p}x`).value('1');
    await waitFor('a sorted read', () => tally.sorted >= 1, 5000);
    await checks('checks after the write elsewhere');
    assert.equal(tally.sorted, 1, 'the sorted read is made once per move of the revision');
    assert.equal(inf.stale(), false);
    assert.equal(inf.resyncs, 0);
  });

  test('a watch that stops delivering while etcd answers (the checks get through) is found out by the sorted read', async () => {
    const p = prefix();
    await seed(p, 300);
    // Drops the watch's events while `held`, as a stalled stream would; range requests still answer.
    let held = false;
    const holdWatch = (client: Etcd3) => {
      const watch = client.watch.bind(client);
      client.watch = () => {
        const builder = watch();
        const watcher = builder.watcher.bind(builder);
        builder.watcher = () => {
          const w = watcher();
          const emit = w.emit.bind(w);
          w.emit = (event, ...args) => (held && event === 'data' ? true : emit(event, ...args));
          return w;
        };
        return builder;
      };
    };
    const inf = informer(etcd.url, p, {}, holdWatch);
    await waitFor('live', () => !inf.stale(), 10_000);
    await new Promise((r) => setTimeout(r, 3 * resync.checkMs));
    const resyncs = inf.resyncs;

    held = true;
    await writer.put(`${p}k`).value('"written while held"');
    // Two checks: the first reads the write's revision under the prefix, the next finds it undelivered. The relist
    // that follows reads the write itself (the list is a range, not the watch).
    await waitFor('relisted', () => inf.resyncs > resyncs, 5000);
    assert.match(inf.lastError ?? '', /^watch stalled: etcd held revision \d+ under the prefix/);
    await waitFor('the write, listed', () => !inf.stale() && inf.get('k')?.json === '"written while held"', 10_000);
    held = false;
    await writer.put(`${p}k`).value('"after"');
    await waitFor('the new watch delivers', () => inf.get('k')?.json === '"after"');
  });

  test('history compacted while the watch lags behind: the watch is cancelled, it relists and converges', async () => {
    const p = prefix();
    const host = new URL(etcd.url);
    const proxy = await startProxy({ host: host.hostname, port: Number(host.port) });
    open.push(proxy);
    await writer.put(`${p}doomed`).value('"x"');
    const inf = informer(proxy.url, p);
    await waitFor('live', () => !inf.stale());
    const resyncs = inf.resyncs;

    proxy.stall();
    // Enough bytes that etcd cannot buffer them for the stalled stream: the watcher becomes a
    // "victim", falls out of sync, and the compaction below removes the revisions it still needs.
    const big = JSON.stringify('x'.repeat(64 * 1024));
    for (let i = 0; i < 800; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => writer.put(`${p}big${(i + j) % 10}`).value(big)));
    }
    await writer.delete().key(`${p}doomed`);
    await writer.put(`${p}last`).value('"final"');
    await etcd.compact();
    proxy.resume();

    await waitFor(
      'converged after compaction',
      () => {
        if (inf.get('last')?.json === '"final"' && !inf.stale()) return true;
        throw new Error(`state ${inf.state}, resyncs ${inf.resyncs}, synced revision ${inf.syncedRevision}, last error ${inf.lastError}`);
      },
      15_000,
    );
    assert.equal(inf.get('doomed'), undefined);
    assert.equal(inf.size, 11);
    assert.ok(inf.resyncs > resyncs, `expected a relist after the compaction (resyncs ${inf.resyncs}, last error ${inf.lastError})`);
  });
});
