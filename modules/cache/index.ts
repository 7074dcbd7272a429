// The cache module: a config cache whose every instance serves the same data, synchronised through etcd.
import { defineModule } from '../../kernel/module.ts';
import type { CacheBackend } from './backend.ts';
import { cacheConfigSchema } from './config.ts';
import { createEtcdClient } from './etcd-client.ts';
import { etcdBackend } from './etcd-backend.ts';
import { keyToPath } from './keys.ts';
import { memoryBackend } from './memory-backend.ts';
import { registerCacheMetrics } from './metrics.ts';
import { cacheRoutes } from './routes.ts';

export const cache = defineModule({
  name: 'cache',
  description: 'Distributed config cache: PUT/GET/DELETE /config/<key>; each instance keeps a copy kept current through etcd.',
  config: cacheConfigSchema,
  roles: {
    api: {
      async create(ctx) {
        const cfg = ctx.config;
        const backend: CacheBackend =
          cfg.backend === 'etcd'
            ? etcdBackend({
                client: createEtcdClient(cfg.etcd),
                prefix: cfg.keyPrefix,
                log: ctx.log,
                resync: cfg.resync,
                ownsClient: true,
              })
            : memoryBackend();
        await backend.start();
        ctx.addReadinessCheck('cache', () => backend.ready());
        const metrics = registerCacheMetrics(ctx.metrics, backend);
        ctx.log.info({ backend: backend.kind, endpoints: cfg.etcd.endpoints, prefix: cfg.keyPrefix }, 'cache: started');
        return {
          routes: cacheRoutes(backend, { maxValueBytes: cfg.maxValueBytes }, metrics),
          stop: () => backend.close(),
        };
      },
    },
  },
  async smoke(baseUrl, print) {
    const key = `smoke/${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const url = `${baseUrl.replace(/\/+$/, '')}/config/${keyToPath(key)}`;
    const value = { checkedAt: new Date().toISOString(), nested: [1, 'two', null] };
    const expect = async (what: string, res: Response, status: number) => {
      if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${await res.text()}`);
      print(`ok  ${what} → ${status}`);
    };
    await expect(`PUT ${key}`, await fetch(url, { method: 'PUT', body: JSON.stringify(value), headers: { 'content-type': 'application/json' } }), 200);
    for (const useCache of ['true', 'false']) {
      const res = await fetch(`${url}?use_cache=${useCache}`);
      await expect(`GET use_cache=${useCache}`, res.clone(), 200);
      if (JSON.stringify(await res.json()) !== JSON.stringify(value)) throw new Error('GET returned another value');
    }
    await expect('DELETE', await fetch(url, { method: 'DELETE' }), 204);
    await expect('GET after DELETE', await fetch(`${url}?use_cache=false`), 404);
  },
});
