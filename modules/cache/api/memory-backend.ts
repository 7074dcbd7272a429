// The default backend: one process, values in a Map, a revision counter standing in for etcd's.
import type { CacheBackend, Entry } from './backend.ts';
import { compareKeys } from './keys.ts';

export function memoryBackend(): CacheBackend {
  const entries = new Map<string, Entry>();
  let revision = 0;
  const read = (key: string) => entries.get(key);
  return {
    kind: 'memory',
    async start() {},
    ready: () => true,
    size: () => entries.size,
    async put(key, json) {
      const entry = { json, revision: ++revision };
      entries.set(key, entry);
      return entry;
    },
    async delete(key) {
      if (!entries.delete(key)) return undefined;
      return ++revision;
    },
    getCached: (key) => ({ entry: read(key), stale: false }),
    getFresh: async (key) => read(key),
    async list({ prefix, limit, after }) {
      const keys = [...entries.keys()].filter((k) => k.startsWith(prefix) && (after === undefined || compareKeys(k, after) > 0)).sort(compareKeys);
      const page = keys.slice(0, limit);
      return { keys: page, lastKey: keys.length > limit ? page.at(-1) : undefined, stale: false };
    },
    async close() {
      entries.clear();
    },
  };
}
