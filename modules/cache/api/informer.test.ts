// The informer against a real etcd: list + watch, revision ordering, tombstones, outage, compaction while lagging.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { gate, waitFor } from '../../../kernel/testing/index.ts';
import { createLogger } from '../../../kernel/logger.ts';
import { createEtcdClient } from './etcd-client.ts';
import { Informer } from './informer.ts';
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
  const informer = (url: string, p: string) => {
    const client = createEtcdClient({ ETCD_URL: [url], CACHE_ETCD_TIMEOUT_MS: 1000 });
    const inf = new Informer({ client, prefix: p, log, resync, pageSize: 3 });
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
