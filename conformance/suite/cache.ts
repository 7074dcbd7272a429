// The cache's promises through its public API: what one instance writes every instance reads (and forgets once
// deleted), and when etcd stops the copies say they may be stale, then recover once it is back.
import { type Answer, call, eventually, expect, unique } from './http.ts';
import type { Check, Deployment, ModuleSuite } from './types.ts';

const put = (base: string, key: string, value: unknown): Promise<Answer> => call(base, 'PUT', `/config/${key}`, value);
/** A read of the instance's own copy (use_cache=true): what propagation is about. */
const cached = (base: string, key: string): Promise<Answer> => call(base, 'GET', `/config/${key}?use_cache=true`);

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A cached read with its stale flag, shown as such in a failure message. */
async function cachedWithFlag(base: string, key: string): Promise<{ status: number; stale: boolean; value: unknown }> {
  const a = await cached(base, key);
  return { status: a.status, stale: a.headers.get('x-cache-stale') === 'true', value: a.body };
}

function cacheInstances(d: Deployment): string[] {
  const instances = d.instances('cache.api');
  expect(instances.length >= 1, "at least one instance of 'cache.api'", instances);
  return instances;
}

/** Waits until every instance's own copy holds `value` (status 200), or answers 404 when `value` is undefined. */
async function everyInstanceReads(instances: string[], key: string, value: unknown, timeoutMs = 5000): Promise<void> {
  for (const [i, base] of instances.entries()) {
    await eventually(
      `instance ${i + 1} of ${instances.length} to read ${value === undefined ? 'no value' : JSON.stringify(value)} under ${key}`,
      () => cached(base, key),
      (a) => (value === undefined ? a.status === 404 : a.status === 200 && same(a.body, value)),
      timeoutMs,
      20,
    );
  }
}

const writeReadEverywhere: Check = {
  name: 'a write on one instance is read on every instance; a delete on another is seen everywhere',
  async run(d) {
    const instances = cacheInstances(d);
    const key = `conformance/${unique('key')}`;
    const value = { written_on: 'the first instance', list: [1, 'two', null] };
    const written = await put(instances[0], key, value);
    expect(written.status === 200 && same(written.body?.value, value), `PUT /config/${key} → 200 with the value`, written);
    await everyInstanceReads(instances, key, value);

    const deleted = await call(instances[instances.length - 1], 'DELETE', `/config/${key}`);
    expect(deleted.status === 204, `DELETE /config/${key} on the last instance → 204`, deleted);
    await everyInstanceReads(instances, key, undefined);
  },
};

const readYourWriteThroughGateway: Check = {
  name: 'through the gateway: a write is read back at once with use_cache=false',
  async run(d) {
    const key = `conformance/${unique('gw')}`;
    for (let round = 1; round <= 5; round++) {
      const written = await put(d.gateway, key, { round });
      expect(written.status === 200, `PUT /config/${key} → 200`, written);
      const read = await call(d.gateway, 'GET', `/config/${key}?use_cache=false`);
      expect(read.status === 200 && same(read.body, { round }), `GET use_cache=false right after the PUT → {"round":${round}}`, read);
    }
  },
};

const staleFlagWhenEtcdStops: Check = {
  name: 'etcd stopped: reads answer the last value with X-Cache-Stale: true, writes 503; back: flag cleared, writes read everywhere',
  appliesTo: (d) => (d.etcd ? true : 'no etcd in this topology: the cache is in memory'),
  async run(d) {
    if (!d.etcd) throw new Error('no etcd to stop');
    const instances = cacheInstances(d);
    const key = `conformance/${unique('stale')}`;
    const before = { state: 'before etcd stopped' };
    const written = await put(instances[0], key, before);
    expect(written.status === 200, `PUT /config/${key} → 200`, written);
    await everyInstanceReads(instances, key, before);

    await d.etcd.stop();
    try {
      for (const [i, base] of instances.entries()) {
        await eventually(
          `instance ${i + 1}: a cached read → 200, the last value, X-Cache-Stale: true`,
          () => cachedWithFlag(base, key),
          (a) => a.status === 200 && same(a.value, before) && a.stale,
          10_000,
          200,
        );
      }
      const refused = await put(instances[0], key, { state: 'written while etcd was down' });
      expect(
        refused.status === 503 && refused.body?.error === 'CACHE_BACKEND_UNAVAILABLE',
        'a PUT while etcd is down → 503 CACHE_BACKEND_UNAVAILABLE',
        refused,
      );
    } finally {
      await d.etcd.restart();
    }

    for (const [i, base] of instances.entries()) {
      await eventually(
        `instance ${i + 1}: the stale flag cleared after etcd is back`,
        () => cachedWithFlag(base, key),
        (a) => a.status === 200 && !a.stale,
        30_000,
        200,
      );
    }
    const fresh = await call(instances[0], 'GET', `/config/${key}?use_cache=false`);
    expect(fresh.status === 200 && same(fresh.body, before), 'the refused PUT left no trace (etcd still holds the value before)', fresh);
    const after = { state: 'after etcd came back' };
    const rewritten = await put(instances[0], key, after);
    expect(rewritten.status === 200, 'a PUT after etcd is back → 200', rewritten);
    await everyInstanceReads(instances, key, after);
  },
};

export const cache: ModuleSuite = {
  module: 'cache',
  checks: [writeReadEverywhere, readYourWriteThroughGateway, staleFlagWhenEtcdStops],
  async load(d) {
    const key = `conformance/${unique('load')}`;
    const written = await put(d.gateway, key, { for: 'the load phase', padding: 'x'.repeat(200) });
    expect(written.status === 200, `PUT /config/${key} → 200`, written);
    // Every instance must have it before the load reads it through the balancing gateway.
    await everyInstanceReads(cacheInstances(d), key, written.body.value);
    return () => ({ method: 'GET', path: `/config/${key}` });
  },
};
