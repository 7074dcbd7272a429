// Two, then eight, cache instances as separate processes on one real etcd: writes, deletes and overwrites reach every instance.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gate, type SpawnedApp } from '../../kernel/testing/index.ts';
import { startEtcd, type EtcdServer } from '../../kernel/testing/etcd.ts';
import { cachedRead, configUrl, spawnCacheInstances, timeUntilSeen } from '../../bench/cache/instances.ts';

const withEtcd = await gate('etcd');
const WITHIN_MS = 500;

describe('cache instances as processes on one etcd', { ...withEtcd, concurrency: 1 }, () => {
  let etcd: EtcdServer;
  let apps: SpawnedApp[] = [];
  const prefix = `multi-${process.pid}/`;

  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await etcd?.close();
  });

  /** Write on each instance in turn; every other instance must serve it (cached) within WITHIN_MS. */
  async function propagation(t: { diagnostic(m: string): void }) {
    const seen: number[] = [];
    for (const [i, writer] of apps.entries()) {
      const key = `prop/${apps.length}/${i}`;
      const json = JSON.stringify({ from: i, at: Date.now() });
      const t0 = performance.now();
      const res = await fetch(configUrl(writer, key), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: json });
      assert.equal(res.status, 200);
      // The writer reads its own write at once.
      assert.equal((await cachedRead(writer, key)).text, json);
      seen.push(...(await Promise.all(apps.filter((a) => a !== writer).map((a) => timeUntilSeen(a, key, json, t0, WITHIN_MS)))));

      const d0 = performance.now();
      assert.equal((await fetch(configUrl(writer, key), { method: 'DELETE' })).status, 204);
      assert.equal((await cachedRead(writer, key)).text, undefined);
      seen.push(...(await Promise.all(apps.filter((a) => a !== writer).map((a) => timeUntilSeen(a, key, undefined, d0, WITHIN_MS)))));
    }
    seen.sort((a, b) => a - b);
    t.diagnostic(
      `${apps.length} instances: ${seen.length} cross-instance reads, p50 ${seen[Math.floor(seen.length / 2)].toFixed(1)} ms, max ${seen.at(-1)!.toFixed(1)} ms (includes the PUT/DELETE round trip and polling)`,
    );
  }

  /** Rapid overwrites from every instance; afterwards each serves the last value and never an older one again. */
  async function overwrites() {
    const key = `over/${apps.length}`;
    let last = '';
    for (let round = 0; round < 30; round++) {
      last = JSON.stringify({ round });
      const res = await fetch(configUrl(apps[round % apps.length], key), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: last });
      assert.equal(res.status, 200);
    }
    const t0 = performance.now();
    await Promise.all(apps.map((a) => timeUntilSeen(a, key, last, t0, WITHIN_MS)));
    for (let i = 0; i < 20; i++) {
      for (const a of apps) assert.equal((await cachedRead(a, key)).text, last, `${a.url} went back to an older value`);
    }
  }

  test('two instances: write, delete, overwrite propagate within 500 ms', async (t) => {
    apps = await spawnCacheInstances(2, etcd.url, prefix);
    await propagation(t);
    await overwrites();
  });

  test('eight instances (six join late and list what exists): write, delete, overwrite propagate within 500 ms', async (t) => {
    const kept = `kept/${Date.now()}`;
    assert.equal(
      (await fetch(configUrl(apps[0], kept), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '"before the others started"' })).status,
      200,
    );
    apps.push(...(await spawnCacheInstances(6, etcd.url, prefix)));
    for (const a of apps) assert.equal((await cachedRead(a, kept)).text, '"before the others started"');
    await propagation(t);
    await overwrites();
    for (const a of apps) assert.equal((await cachedRead(a, 'prop/8/0')).stale, false);
  });
});
