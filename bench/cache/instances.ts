// Bench helper (the multi-instance and fault tests use it too): cache instances as real processes on one
// etcd, and reads over HTTP that wait for a value to arrive.
import { spawnApp, type SpawnedApp } from '../../kernel/spawn-app.ts';

export function spawnCacheInstances(count: number, etcdUrl: string, prefix: string, env: Record<string, string> = {}): Promise<SpawnedApp[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      spawnApp(
        {
          MODULES: 'cache',
          ETCD_URL: etcdUrl,
          CACHE_KEY_PREFIX: prefix,
          CACHE_ETCD_TIMEOUT_MS: '1000',
          CACHE_RESYNC_BASE_MS: '50',
          CACHE_RESYNC_MAX_MS: '1000',
          ...env,
        },
        { readyTimeoutMs: 60_000 },
      ),
    ),
  );
}

/** The key's URL, as the HTTP API reads it (docs/cache.md): each `/`-separated segment percent-encoded. */
export const configUrl = (app: { url: string }, key: string, query = '') => `${app.url}/config/${key.split('/').map(encodeURIComponent).join('/')}${query}`;

/** A cached read: the body text (undefined on 404) and whether the instance flagged it stale. */
export async function cachedRead(app: { url: string }, key: string): Promise<{ text: string | undefined; stale: boolean }> {
  const res = await fetch(configUrl(app, key));
  const text = await res.text();
  if (res.status !== 200 && res.status !== 404) throw new Error(`GET ${key}: ${res.status} ${text}`);
  return { text: res.status === 200 ? text : undefined, stale: res.headers.get('x-cache-stale') === 'true' };
}

/**
 * Polls a cached read on `app` until it returns `expected` (undefined: 404); resolves the time it
 * took in ms, or rejects after `timeoutMs`.
 */
export async function timeUntilSeen(app: { url: string }, key: string, expected: string | undefined, since: number, timeoutMs = 500): Promise<number> {
  for (;;) {
    const { text } = await cachedRead(app, key);
    const elapsed = performance.now() - since;
    if (text === expected) return elapsed;
    if (elapsed > timeoutMs) throw new Error(`${app.url}: ${key} is ${text ?? '<absent>'} after ${Math.round(elapsed)} ms; expected ${expected ?? '<absent>'}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The value of an unlabelled metric on the instance's /metrics. */
export async function metric(app: { url: string }, name: string): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`metric ${name} not found`);
  return Number(m[1]);
}
