// What cache.api shows on /console: the keys of this instance's copy with their value, revision and whether the copy
// may be behind etcd (stale) — read from the copy, never from etcd, so the page answers while etcd is down.
import type { ConsoleHook } from '../../../kernel/module.ts';
import type { CacheBackend } from './backend.ts';

const SHOWN = 200;

export function cacheConsole(backend: CacheBackend): ConsoleHook {
  return {
    async panels() {
      const page = await backend.list({ prefix: '', limit: SHOWN, fresh: false });
      return [
        {
          title: `Cache keys (${backend.kind})`,
          note: `${backend.size()} keys in this instance's copy${page.lastKey ? `; the first ${SHOWN} shown` : ''}.`,
          columns: ['key', 'value', 'revision', 'stale'],
          rows: page.keys.map((key) => {
            const { entry, stale } = backend.getCached(key);
            return { cells: [key, entry?.json ?? null, entry?.revision ?? null, stale ? 'stale' : 'current'] };
          }),
        },
      ];
    },
  };
}
