// Child process for the propagation measurement: N etcd watchers on the cache's prefix, each its own etcd3
// client (its own connection and watch), reporting on the shared monotonic clock when each saw each event
// under `prop/`.
//
// Why the etcd3 library directly and not the cache module's Informer: the bench may import only a module's
// index.ts or contract.ts, and the Informer is an internal. A cache instance learns of another's write
// through exactly this — one etcd watch on its prefix — and then sets one entry of an in-memory Map, so
// the watch delivery is what more instances can slow down; the watch options below are the Informer's
// (the whole prefix, from the current revision on). End to end through real app processes over HTTP is
// the scenario's `processes` part; this part times each delivery exactly, which sampled reads cannot.
import { Etcd3, Range } from 'etcd3';

const url = process.env.ETCD_URL!;
const prefix = process.env.CACHE_KEY_PREFIX!;
const count = Number(process.env.INFORMERS ?? 16);
const first = Number(process.env.FIRST_INFORMER ?? 0);
const measured = Buffer.from(`${prefix}prop/`, 'utf8');
const now = () => Number(process.hrtime.bigint()) / 1e6;

let batch: Array<[number, string, number]> = [];
const flush = () => {
  if (batch.length) process.send!({ type: 'seen', seen: batch });
  batch = [];
};

const watchers = await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    const client = new Etcd3({ hosts: url, dialTimeout: 5000 });
    // create() resolves once etcd has acknowledged the watch: from then on no write is missed.
    const watcher = await client.watch().inRange(Range.prefix(prefix)).create();
    watcher.on('data', (res) => {
      const at = now();
      for (const ev of res.events) {
        if (ev.type !== 'Put' || !ev.kv.key.subarray(0, measured.length).equals(measured)) continue;
        if (batch.length === 0) setImmediate(flush);
        batch.push([first + i, ev.kv.key.subarray(prefix.length).toString('utf8'), at]);
      }
    });
    return { client, watcher };
  }),
);
process.send!({ type: 'ready' });

process.on('message', async (msg: { type: string }) => {
  if (msg.type !== 'stop') return;
  flush();
  for (const { client, watcher } of watchers) {
    await watcher.cancel().catch(() => {});
    client.close();
  }
  process.exit(0);
});
process.on('disconnect', () => process.exit(0));
