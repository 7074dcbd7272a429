// Prometheus metrics of the cache: entries held, watch lag, resyncs, stale reads.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheBackend } from './backend.ts';
import type { EtcdBackend } from './etcd-backend.ts';

export interface CacheMetrics {
  staleReads: Counter;
}

export function registerCacheMetrics(registry: Registry, backend: CacheBackend): CacheMetrics {
  const informer = backend.kind === 'etcd' ? (backend as EtcdBackend).informer : undefined;
  new Gauge({
    name: 'cantons_cache_entries',
    help: "Keys held in this instance's local copy (tombstones excluded)",
    registers: [registry],
    collect() {
      this.set(backend.size());
    },
  });
  if (informer) {
    new Gauge({
      name: 'cantons_cache_watch_lag_revisions',
      help: 'How many etcd revisions the latest watch response trailed the store by',
      registers: [registry],
      collect() {
        this.set(informer.watchLag);
      },
    });
    new Gauge({
      name: 'cantons_cache_watch_connected',
      help: '1 while the etcd watch is connected and the local copy is current, else 0',
      registers: [registry],
      collect() {
        this.set(informer.stale() ? 0 : 1);
      },
    });
    new Gauge({
      name: 'cantons_cache_synced_revision',
      help: 'etcd revision up to which the local copy has applied every change',
      registers: [registry],
      collect() {
        this.set(informer.syncedRevision);
      },
    });
    new Counter({
      name: 'cantons_cache_resyncs_total',
      help: 'Times the watch was lost and the prefix relisted',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(informer.resyncs);
      },
    });
  }
  return {
    staleReads: new Counter({
      name: 'cantons_cache_stale_reads_total',
      help: 'Cached reads answered while the local copy may be behind etcd (X-Cache-Stale: true)',
      registers: [registry],
    }),
  };
}
