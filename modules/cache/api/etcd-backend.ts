// The etcd backend: writes and linearizable reads go to etcd, cached reads to the informer's copy.
import type { Etcd3 } from 'etcd3';
import { etcd3 } from './etcd3.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { traced } from '../../../kernel/tracing/traced.ts';
import type { CacheBackend, Entry } from './backend.ts';
import { cacheErrors } from '../errors.ts';
import { Informer } from './informer.ts';
import { compareKeys } from './keys.ts';

export interface EtcdBackendOptions {
  client: Etcd3;
  /** Every key lives under this etcd prefix. */
  prefix: string;
  log: Logger;
  resync: { baseMs: number; maxMs: number; checkMs?: number };
  /** How long a watch check may take (default 2 s; the app passes CACHE_ETCD_TIMEOUT_MS). */
  checkTimeoutMs?: number;
  /** Closes the client on `close()` (true when the backend built it). */
  ownsClient?: boolean;
}

export interface EtcdBackend extends CacheBackend {
  readonly informer: Informer;
}

export function etcdBackend(opts: EtcdBackendOptions): EtcdBackend {
  const { client, prefix, log } = opts;
  const informer = new Informer({ client, prefix, log, resync: opts.resync, checkTimeoutMs: opts.checkTimeoutMs });
  const full = (key: string) => Buffer.from(prefix + key, 'utf8');
  const prefixLength = Buffer.byteLength(prefix, 'utf8');

  // Any failure to reach etcd becomes a 503 that says nothing was written; the cause goes to the log.
  // The copy is marked stale at the same moment: a link that fails this instance's own request cannot
  // be trusted to deliver other instances' writes either.
  // Each is one client span `etcd <what>` (write, delete, read, list), a child of the request that made it.
  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await traced(`etcd ${what}`, 'client', fn, { 'db.system.name': 'etcd' });
    } catch (err) {
      log.warn({ err: (err as Error).message, op: what }, 'cache: etcd request failed');
      informer.markStale(`etcd ${what} failed: ${(err as Error).message}`);
      throw cacheErrors.CACHE_BACKEND_UNAVAILABLE(`etcd did not complete the ${what}; nothing was changed`);
    }
  }

  return {
    kind: 'etcd',
    informer,
    async start() {
      informer.start();
    },
    ready: () => informer.ready(),
    size: () => informer.size,
    async put(key, json) {
      const res = await call('write', () => client.kv.put({ key: full(key), value: Buffer.from(json, 'utf8') }));
      const revision = Number(res.header.revision);
      informer.observe(key, json, revision);
      return { json, revision };
    },
    async delete(key) {
      const res = await call('delete', () => client.kv.deleteRange({ key: full(key) }));
      const revision = Number(res.header.revision);
      // Absent at this revision either way: remember that, so an older watch event cannot bring it back.
      informer.observe(key, undefined, revision);
      return Number(res.deleted) > 0 ? revision : undefined;
    },
    getCached(key) {
      return { entry: informer.get(key), stale: informer.stale() };
    },
    async getFresh(key) {
      const res = await call('read', () => client.kv.range({ key: full(key) }));
      const kv = res.kvs[0];
      const entry: Entry | undefined = kv ? { json: kv.value.toString('utf8'), revision: Number(kv.mod_revision) } : undefined;
      informer.observe(key, entry?.json, entry ? entry.revision : Number(res.header.revision));
      return entry;
    },
    async list({ prefix: keyPrefix, limit, after, fresh }) {
      if (fresh || !informer.ready()) {
        const range = etcd3.Range.prefix(full(keyPrefix));
        const next = after === undefined ? range.start : Buffer.concat([full(after), Buffer.from([0])]);
        const start = Buffer.compare(next, range.start) > 0 ? next : range.start;
        const res = await call('list', () => client.kv.range({ key: start, range_end: range.end, limit: limit + 1, keys_only: true }));
        const keys = res.kvs.slice(0, limit).map((kv) => kv.key.subarray(prefixLength).toString('utf8'));
        return { keys, lastKey: res.kvs.length > limit ? keys.at(-1) : undefined, stale: false };
      }
      const keys = informer.keys().filter((k) => k.startsWith(keyPrefix) && (after === undefined || compareKeys(k, after) > 0));
      keys.sort(compareKeys);
      const page = keys.slice(0, limit);
      return { keys: page, lastKey: keys.length > limit ? page.at(-1) : undefined, stale: informer.stale() };
    },
    async close() {
      await informer.close();
      if (opts.ownsClient) client.close();
    },
  };
}
