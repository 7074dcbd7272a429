// Configuration: backend choice, endpoints, the USER_KEY_PREFIX alias, and problems reported by name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheConfigSchema, cacheSetup } from './config.ts';

const parse = (env: Record<string, string>) => cacheConfigSchema.safeParse(env);

test('memory by default; etcd when ETCD_URL is set; endpoints split on commas', () => {
  const plain = parse({});
  assert.ok(plain.success);
  assert.deepEqual(cacheSetup(plain.data), { etcdUrl: undefined, keyPrefix: 'cantons/cache/' }, 'memory');
  assert.equal(plain.data.CACHE_MAX_VALUE_BYTES, 1024 * 1024);

  const etcd = parse({ ETCD_URL: 'http://10.0.0.1:2379, https://10.0.0.2:2379' });
  assert.ok(etcd.success);
  assert.deepEqual(etcd.data.ETCD_URL, ['http://10.0.0.1:2379', 'https://10.0.0.2:2379']);
  assert.deepEqual(cacheSetup(etcd.data).etcdUrl, etcd.data.ETCD_URL, 'etcd');

  const forced = parse({ ETCD_URL: 'http://127.0.0.1:2379', CACHE_BACKEND: 'memory' });
  assert.ok(forced.success);
  assert.equal(cacheSetup(forced.data).etcdUrl, undefined, 'memory');
});

test('CACHE_KEY_PREFIX, or the original USER_KEY_PREFIX', () => {
  const prefix = (env: Record<string, string>) => cacheSetup(cacheConfigSchema.parse(env)).keyPrefix;
  assert.equal(prefix({ USER_KEY_PREFIX: 'alice/' }), 'alice/');
  assert.equal(prefix({ USER_KEY_PREFIX: 'alice/', CACHE_KEY_PREFIX: 'bob/' }), 'bob/');
});

test('bad settings are named', () => {
  const problems = (env: Record<string, string>) => {
    const r = parse(env);
    return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
  };
  assert.deepEqual(problems({ CACHE_BACKEND: 'etcd' }), ['ETCD_URL']);
  assert.deepEqual(problems({ ETCD_URL: 'http://ok:1,redis://x:1' }), ['ETCD_URL.1']);
  assert.deepEqual(problems({ ETCD_URL: 'http://x:1', ETCD_USERNAME: 'u' }), ['ETCD_PASSWORD']);
  assert.deepEqual(problems({ CACHE_BACKEND: 'redis' }), ['CACHE_BACKEND']);
  assert.deepEqual(problems({ CACHE_RESYNC_BASE_MS: '500', CACHE_RESYNC_MAX_MS: '100' }), ['CACHE_RESYNC_MAX_MS']);
});
