// Scale, cache: N keys put straight into etcd, then an instance's first list (its "etcd resync" span) and the memory
// the copy takes, the cached GET of a random key, and propagation to 64 watchers, at each N.
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdServer } from '../../kernel/testing/etcd.ts';
import { measurePropagation } from '../cache/propagation.ts';
import type { VirtualUser } from '../load.ts';
import { check, measure, type BenchIO, type BenchOptions, type CheckResult, type RunRecord } from '../scenario.ts';
import { spawnCantons, stopServers, type ServerProcess } from '../servers.ts';
import { count, memoryOf, seconds } from './seed.ts';
import type { ScaleSeries } from './series.ts';
import { startSpanSink } from './spans.ts';

const pad = (i: number) => String(i).padStart(7, '0');
/** A 34-byte JSON value: about what the original's load test stores (a 32-letter string). */
const value = (i: number) => JSON.stringify(`value-${pad(i)}-abcdefghijklmnopqrs`);
/** etcd takes at most 128 operations in one transaction (--max-txn-ops). */
const TXN = 128;

/** `keys` keys `seed/0000000…` under `prefix`, in transactions of 128 puts, 16 at a time. */
export async function seedEtcd(etcdUrl: string, prefix: string, keys: number, log: (line: string) => void): Promise<number> {
  const client = new Etcd3({ hosts: etcdUrl });
  const t0 = performance.now();
  let lastLog = t0;
  try {
    let next = 0;
    const worker = async () => {
      while (next < keys) {
        const from = next;
        next = Math.min(keys, next + TXN);
        const success = [];
        for (let i = from; i < next; i++) success.push({ request_put: { key: Buffer.from(`${prefix}seed/${pad(i)}`), value: Buffer.from(value(i)) } });
        await client.kv.txn({ compare: [], success, failure: [] });
        if (performance.now() - lastLog > 3000) {
          lastLog = performance.now();
          log(`  seeding etcd: ${count(next)} of ${count(keys)} keys`);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  } finally {
    client.close();
  }
  return (performance.now() - t0) / 1000;
}

export async function scaleCache(
  sizes: number[],
  series: ScaleSeries,
  opts: BenchOptions,
  io: BenchIO,
  etcdUrl?: string,
): Promise<{ runs: RunRecord[]; checks: CheckResult[]; notes: string[] }> {
  const runs: RunRecord[] = [];
  const checks: CheckResult[] = [];
  const notes: string[] = [];
  const base = { module: 'cache', sizeUnit: 'keys' } as const;
  let etcd: EtcdServer | undefined;
  if (!etcdUrl) {
    io.log('cache: starting a throwaway etcd …');
    etcd = await startEtcd();
    etcdUrl = etcd.url;
  }
  const sink = await startSpanSink();
  const env = (prefix: string, extra: Record<string, string> = {}) => ({ MODULES: 'cache', ETCD_URL: etcdUrl!, CACHE_KEY_PREFIX: prefix, ...extra });
  const servers: ServerProcess[] = [];
  try {
    const run = `scale-${process.pid}-${Date.now()}`;
    // The memory an instance holds with nothing to copy: what each size's copy is measured above.
    const empty = await spawnCantons(env(`${run}/empty/`), { name: 'cantons cache (empty)' });
    const idle = memoryOf(empty.pid);
    await stopServers(empty);
    for (const size of sizes) {
      const prefix = `${run}/${size}/`;
      io.log(`cache, ${count(size)} keys: seeding etcd …`);
      const took = await seedEtcd(etcdUrl, prefix, size, io.log);
      io.log(`cache, ${count(size)} keys: seeded in ${seconds(took)} (${count(Math.round(size / took))} keys/s); an instance's start-up, traced …`);

      // Start-up with tracing on, to read the first list's span; every other measure on an untraced instance.
      sink.spans.length = 0;
      const t0 = performance.now();
      const traced = await spawnCantons(
        env(prefix, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' }),
        {
          name: 'cantons cache (traced)',
          readyTimeoutMs: 120_000,
        },
      );
      const startup = performance.now() - t0;
      const list = await sink.waitFor('etcd resync').catch((err: Error) => {
        notes.push(`cache ${count(size)}: first list not timed: ${err.message}`);
        return undefined;
      });
      await stopServers(traced);
      series.add({ ...base, name: 'start-up to ready', unit: 'ms', kind: 'info' }, size, startup);
      if (list) {
        series.add({ ...base, name: 'first list', unit: 'ms', kind: 'info' }, size, list.durationMs);
        series.add(
          { ...base, name: 'first list per key', unit: 'µs', kind: 'whole-set' },
          size,
          (list.durationMs * 1000) / size,
          `${count(Math.round((size * 1000) / list.durationMs))} keys/s`,
        );
      }

      const server = await spawnCantons(env(prefix), { name: 'cantons cache', readyTimeoutMs: 120_000 });
      servers.push(server);
      const mem = memoryOf(server.pid);
      if (mem && idle) {
        series.add({ ...base, name: 'RSS after the first list', unit: 'MB', kind: 'info' }, size, mem.rssMb, `idle (no keys) ${idle.rssMb} MB`);
        series.add({ ...base, name: 'RSS above idle per key', unit: 'B', kind: 'whole-set' }, size, ((mem.rssMb - idle.rssMb) * 1024 * 1024) / size);
      }
      const entries = await fetch(`${server.url}/metrics`).then((r) => r.text());
      const held = Number(/^cantons_cache_entries (\S+)$/m.exec(entries)?.[1]);
      checks.push(check(`cache ${count(size)}: the instance holds every key`, held === size, `${held} entries`));
      const get = await measure(
        `cache GET /config/<key>?use_cache=true, ${count(size)} keys`,
        [server],
        {
          step: async (vu: VirtualUser) => {
            const i = vu.random.int(0, size - 1);
            const res = await vu.client.get(`/config/seed/${pad(i)}?use_cache=true`, { step: 'GET /config/:key cached', expect: 200 });
            if (res.body !== `value-${pad(i)}-abcdefghijklmnopqrs`) throw new Error(`seed/${pad(i)} answered ${JSON.stringify(res.body)?.slice(0, 60)}`);
          },
        },
        opts,
        io,
      );
      runs.push(get);
      series.addRun('cache', 'cached GET', 'keys', size, get);
      checks.push(check(`${get.label}: no errors`, get.errors.total === 0, `${get.errors.total} of ${get.requests}`));

      const writes = Math.max(20, Math.min(200, Math.round(opts.durationSec * 40)));
      io.log(`cache, ${count(size)} keys: propagation to 64 watchers, ${writes} writes …`);
      const p = await measurePropagation({ etcdUrl, prefix, writeUrl: server.url, informers: 64, workers: 4, writes, intervalMs: 10, log: io.log });
      series.add({ ...base, name: 'propagation to 64 watchers p50', unit: 'ms', kind: 'request' }, size, p.fromSend.p50);
      series.add({ ...base, name: 'propagation to 64 watchers p99', unit: 'ms', kind: 'request' }, size, p.fromSend.p99);
      checks.push(
        check(`cache ${count(size)}: propagation reached every watcher`, p.missing === 0, `${p.missing} of ${p.writes * p.informers} deliveries missing`),
      );
      await stopServers(server);
      servers.pop();
    }
  } finally {
    await stopServers(...servers);
    await sink.close();
    await etcd?.close();
  }
  return { runs, checks, notes };
}
