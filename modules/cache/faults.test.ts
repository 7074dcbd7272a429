// Faults with instances as processes: etcd killed and restarted on its data dir; history compacted while an instance lags.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gate, waitFor, type SpawnedApp } from '../../kernel/testing/index.ts';
import { startEtcd, type EtcdServer } from '../../kernel/testing/etcd.ts';
import { cachedRead, configUrl, metric, spawnCacheInstances, timeUntilSeen } from '../../bench/cache/instances.ts';

const withEtcd = await gate('etcd');

describe('cache instances under faults', { ...withEtcd, concurrency: 1 }, () => {
  let etcd: EtcdServer;
  let apps: SpawnedApp[] = [];

  before(async () => {
    etcd = await startEtcd();
    apps = await spawnCacheInstances(3, etcd.url, `faults-${process.pid}/`);
  });
  after(async () => {
    for (const a of apps) if (a.proc.signalCode === null) a.proc.kill('SIGCONT');
    await Promise.all(apps.map((a) => a.stop()));
    await etcd?.close();
  });

  test('etcd killed and restarted on the same data dir: stale reads meanwhile, a refused write leaves no trace, all converge', async () => {
    const [a, b, c] = apps;
    assert.equal((await fetch(configUrl(a, 'svc/mode'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '"blue"' })).status, 200);
    await Promise.all(apps.map((x) => timeUntilSeen(x, 'svc/mode', '"blue"', performance.now())));

    await etcd.kill();
    for (const x of apps) {
      const read = await waitFor('stale flag', async () => {
        const r = await cachedRead(x, 'svc/mode');
        return r.stale ? r : undefined;
      });
      assert.equal(read.text, '"blue"', 'the last known value is served');
    }
    const refused = await fetch(configUrl(b, 'svc/mode'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '"green"' });
    assert.equal(refused.status, 503);
    assert.equal((await refused.json()).error, 'CACHE_BACKEND_UNAVAILABLE');
    assert.equal((await fetch(configUrl(c, 'svc/other'), { method: 'DELETE' })).status, 503);
    assert.equal((await cachedRead(b, 'svc/mode')).text, '"blue"', 'the refused write did not reach the local copy');

    await etcd.restart();
    for (const x of apps) {
      await waitFor('reconnected', async () => !(await cachedRead(x, 'svc/mode')).stale, 20_000, 50);
      assert.equal((await cachedRead(x, 'svc/mode')).text, '"blue"');
      assert.equal(await (await fetch(configUrl(x, 'svc/mode', '?use_cache=false'))).text(), '"blue"');
    }
    // Watches work again: a new write reaches everyone.
    assert.equal((await fetch(configUrl(c, 'svc/mode'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '"red"' })).status, 200);
    await Promise.all(apps.map((x) => timeUntilSeen(x, 'svc/mode', '"red"', performance.now())));
  });

  test('history compacted while one instance lags (stopped): it relists and converges', async () => {
    const [a, lagging] = apps;
    assert.equal((await fetch(configUrl(a, 'lag/doomed'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '"x"' })).status, 200);
    await timeUntilSeen(lagging, 'lag/doomed', '"x"', performance.now());
    const resyncs = await metric(lagging, 'cantons_cache_resyncs_total');

    lagging.proc.kill('SIGSTOP');
    try {
      // More than etcd buffers for one stream: the stopped instance's watcher falls out of sync,
      // so compaction removes revisions it still needs and etcd cancels its watch.
      const big = JSON.stringify('v'.repeat(64 * 1024));
      for (let i = 0; i < 800; i += 20) {
        await Promise.all(
          Array.from({ length: 20 }, (_, j) =>
            fetch(configUrl(a, `lag/big${(i + j) % 10}`), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: big }).then((r) =>
              assert.equal(r.status, 200),
            ),
          ),
        );
      }
      assert.equal((await fetch(configUrl(a, 'lag/doomed'), { method: 'DELETE' })).status, 204);
      assert.equal((await fetch(configUrl(a, 'lag/final'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '"final"' })).status, 200);
      await etcd.compact();
    } finally {
      lagging.proc.kill('SIGCONT');
    }
    await waitFor(
      'lagging instance converged',
      async () => {
        const [final, doomed] = await Promise.all([cachedRead(lagging, 'lag/final'), cachedRead(lagging, 'lag/doomed')]);
        return final.text === '"final"' && doomed.text === undefined && !final.stale;
      },
      20_000,
      50,
    );
    assert.ok((await metric(lagging, 'cantons_cache_resyncs_total')) > resyncs, 'the compaction forced a relist');
    const keys = await (await fetch(`${lagging.url}/config?prefix=lag/&limit=100`)).json();
    assert.deepEqual(keys.keys, [...Array.from({ length: 10 }, (_, i) => `lag/big${i}`).sort(), 'lag/final']);
  });
});
