// Runs the backend contract against the in-memory backend and against the etcd backend on a real etcd: once
// as it runs, once with its watch held back, so that read-your-writes cannot pass on the watch's speed.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { createLogger } from '../../../kernel/logger.ts';
import { gate, waitFor } from '../../../kernel/testing/index.ts';
import { startEtcd, type EtcdServer } from '../../../kernel/testing/etcd.ts';
import { createEtcdClient } from './etcd-client.ts';
import { etcdBackend, type EtcdBackend } from './etcd-backend.ts';
import { memoryBackend } from './memory-backend.ts';
import { backendContract } from '../testing/backend-contract.ts';
import { startProxy } from '../testing/proxy.ts';

backendContract('memory', async () => {
  const b = memoryBackend();
  await b.start();
  return b;
});

const withEtcd = await gate('etcd');
let etcd: Promise<EtcdServer> | undefined;
let n = 0;
after(async () => (await etcd)?.close());
const etcdUrl = async () => (await (etcd ??= startEtcd())).url;
const client = (url: string) => createEtcdClient({ ETCD_URL: [url], CACHE_ETCD_TIMEOUT_MS: 2000 });

backendContract(
  'etcd',
  async () => {
    const b = etcdBackend({
      client: client(await etcdUrl()),
      prefix: `contract-${++n}/`,
      log: createLogger('silent'),
      resync: { baseMs: 20, maxMs: 200 },
      ownsClient: true,
    });
    await b.start();
    return b;
  },
  withEtcd,
);

/**
 * An etcd backend whose watch runs through a proxy that passes nothing back once the watch is live: its
 * copy learns only from this backend's own writes and reads. Every other call goes straight to etcd.
 * The watch check is far off, so the held watch is not found out (and the copy turned stale) mid-test.
 */
async function heldBackEtcdBackend(): Promise<EtcdBackend> {
  const url = new URL(await etcdUrl());
  const proxy = await startProxy({ host: url.hostname, port: Number(url.port) });
  const direct = client(url.origin);
  const watching = client(proxy.url);
  const split = new Proxy(direct, {
    get: (target, prop) => (prop === 'watch' ? () => watching.watch() : Reflect.get(target, prop)),
  }) as Etcd3;
  const b = etcdBackend({ client: split, prefix: `contract-held-${++n}/`, log: createLogger('silent'), resync: { baseMs: 20, maxMs: 200, checkMs: 600_000 } });
  await b.start();
  await waitFor('watch live', () => !b.informer.stale());
  proxy.stall();
  const close = b.close;
  b.close = async () => {
    proxy.resume();
    await close();
    direct.close();
    watching.close();
    await proxy.close();
  };
  return b;
}

describe('etcd backend with its watch held back', withEtcd, () => {
  test('premise: a write made elsewhere never reaches its copy', async () => {
    const b = await heldBackEtcdBackend();
    try {
      const other = etcdBackend({
        client: client(await etcdUrl()),
        prefix: `contract-held-${n}/`,
        log: createLogger('silent'),
        resync: { baseMs: 20, maxMs: 200 },
        ownsClient: true,
      });
      try {
        const e = await other.put('elsewhere', '1');
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(b.getCached('elsewhere').entry, undefined);
        assert.ok(b.informer.syncedRevision < e.revision, 'the watch delivered nothing past the write');
        assert.equal(b.getCached('elsewhere').stale, false, 'and the copy is not flagged stale (the check is off)');
      } finally {
        await other.close();
      }
    } finally {
      await b.close();
    }
  });
});

backendContract('etcd, watch held back', heldBackEtcdBackend, withEtcd);
