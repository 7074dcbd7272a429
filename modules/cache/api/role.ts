// The cache.api role: the backend the configuration picks (etcd, or memory), its readiness and metrics, the routes.
import type { BaseContext, RoleInstance } from '../../../kernel/module.ts';
import type { CacheBackend } from './backend.ts';
import { cacheSetup, type CacheConfig } from '../config.ts';
import { cacheConsole } from './console.ts';
import { memoryBackend } from './memory-backend.ts';
import { registerCacheMetrics } from './metrics.ts';
import { cacheRoutes } from './routes.ts';

export async function createApiRole(ctx: BaseContext<CacheConfig>): Promise<RoleInstance> {
  const cfg = ctx.config;
  const { etcdUrl, keyPrefix } = cacheSetup(cfg);
  // etcd3 (with its gRPC stack) is loaded only when the cache uses it: it is a third of the process's start-up.
  const etcd = etcdUrl ? { ...(await import('./etcd-client.ts')), ...(await import('./etcd-backend.ts')) } : undefined;
  const backend: CacheBackend =
    etcd && etcdUrl
      ? etcd.etcdBackend({
          client: etcd.createEtcdClient({ ...cfg, ETCD_URL: etcdUrl }),
          prefix: keyPrefix,
          log: ctx.log,
          resync: { baseMs: cfg.CACHE_RESYNC_BASE_MS, maxMs: cfg.CACHE_RESYNC_MAX_MS, checkMs: cfg.CACHE_WATCH_CHECK_MS },
          checkTimeoutMs: cfg.CACHE_ETCD_TIMEOUT_MS,
          ownsClient: true,
        })
      : memoryBackend();
  await backend.start();
  ctx.addReadinessCheck('cache', () => backend.ready());
  const metrics = registerCacheMetrics(ctx.metrics, backend);
  ctx.log.info({ backend: backend.kind, endpoints: etcdUrl ?? [], prefix: keyPrefix }, 'cache: started');
  return {
    routes: cacheRoutes(backend, { maxValueBytes: cfg.CACHE_MAX_VALUE_BYTES }, metrics),
    console: cacheConsole(backend),
    stop: () => backend.close(),
  };
}
