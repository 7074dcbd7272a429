// What one idle informer's once-a-second watch check costs etcd: a throwaway etcd, `keys` keys under a prefix, the
// etcd process's CPU (utime + stime from /proc/<pid>/stat) over `seconds` without the informer, then over `seconds`
// with one informer live on the prefix (and, given `writes`, that many puts a second under the prefix in both
// windows). Linux only.
//   node --import tsx modules/cache/testing/watch-check-cpu.ts [keys=100000] [seconds=20] [writes=0] [informer module]
// The informer module defaults to ../api/informer.ts; another path compares an older copy (its relative imports
// made absolute).
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { createLogger } from '../../../kernel/logger.ts';
import { startEtcd } from '../../../kernel/testing/etcd.ts';
import { waitFor } from '../../../kernel/testing/wait.ts';
import { createEtcdClient } from '../api/etcd-client.ts';
import type { Informer as InformerClass } from '../api/informer.ts';

const keys = Number(process.argv[2] ?? 100_000);
const seconds = Number(process.argv[3] ?? 20);
const writes = Number(process.argv[4] ?? 0);
const modulePath = process.argv[5] ? resolve(process.argv[5]) : '../api/informer.ts';
const { Informer } = (await import(modulePath)) as { Informer: typeof InformerClass };
const TICKS_PER_SECOND = 100; // USER_HZ: getconf CLK_TCK

/** The etcd process serving `dataDir`: startEtcd does not say its pid. */
function pidOf(dataDir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes(dataDir) && cmdline.includes('--data-dir')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no etcd process for ${dataDir}`);
}

/** CPU seconds the process has used (user + system). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // fields 14 and 15 of proc(5)
}

async function window(pid: number): Promise<number> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000);
}

const etcd = await startEtcd();
const writer = etcd.client();
const prefix = 'watch-check-cpu/';
let client: Etcd3 | undefined;
let informer: InformerClass | undefined;
let writing: NodeJS.Timeout | undefined;
try {
  const pid = pidOf(etcd.dataDir);
  let next = 0;
  const worker = async () => {
    while (next < keys) {
      const from = next;
      next = Math.min(keys, next + 128);
      const success = [];
      for (let i = from; i < next; i++)
        success.push({ request_put: { key: Buffer.from(`${prefix}k${String(i).padStart(7, '0')}`), value: Buffer.from(`"value ${i}"`) } });
      await writer.kv.txn({ compare: [], success, failure: [] });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  console.log(`etcd pid ${pid}: ${keys} keys under ${prefix}; informer from ${modulePath}`);
  await new Promise((r) => setTimeout(r, 2000)); // let the seeding's compaction of the backend settle
  const sent = { puts: 0, acked: 0 };
  const put = () => {
    const key = `${prefix}k${String(sent.puts++ % keys).padStart(7, '0')}`;
    void writer
      .put(key)
      .value('"written"')
      .exec()
      .then(() => sent.acked++);
  };
  if (writes > 0) writing = setInterval(put, 1000 / writes);
  const idle = await window(pid);
  console.log(`etcd without an informer${writes > 0 ? `, ${writes} writes/s` : ''}: ${(idle * 100).toFixed(1)} % of a core`);

  client = createEtcdClient({ ETCD_URL: [etcd.url], CACHE_ETCD_TIMEOUT_MS: 2000 });
  const tally = { probes: 0, sorted: 0 };
  const range = client.kv.range.bind(client.kv);
  client.kv.range = (req) => {
    if (req.count_only) tally.probes++;
    if (req.sort_target === 'Mod') tally.sorted++;
    return range(req);
  };
  informer = new Informer({ client, prefix, log: createLogger('silent'), resync: { baseMs: 100, maxMs: 1000 } });
  informer.start();
  const live = informer;
  await waitFor('live', () => !live.stale(), 60_000);
  await new Promise((r) => setTimeout(r, 2000));
  const before = { ...tally };
  const busy = await window(pid);
  const checks = tally.sorted - before.sorted;
  console.log(
    `etcd with one idle informer: ${(busy * 100).toFixed(1)} % of a core (+${((busy - idle) * 100).toFixed(1)}); ` +
      `${writes > 0 ? `${sent.acked} puts in all; ` : ''}${tally.probes - before.probes} revision probes, ${checks} sorted reads in ${seconds} s; resyncs ${informer.resyncs}`,
  );
} finally {
  clearInterval(writing);
  await informer?.close();
  client?.close();
  await etcd.close();
}
