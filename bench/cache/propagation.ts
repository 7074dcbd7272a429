// Bench helper: cross-instance propagation — writes through a cache instance, timed until each of many etcd
// watchers on the cache's prefix saw them (how the workers watch, and why not through the module: propagation-worker.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configUrl } from './instances.ts';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'propagation-worker.ts');
const now = () => Number(process.hrtime.bigint()) / 1e6;

export interface PropagationOptions {
  etcdUrl: string;
  prefix: string;
  /** A cache instance (MODULES=cache on the same etcd and prefix) that takes the writes. */
  writeUrl: string;
  /** Watchers, each its own etcd client, connection and watch, as every cache instance has (the name is the scenario's). */
  informers: number;
  /** Worker processes they are spread over. */
  workers: number;
  writes: number;
  /** Pause between writes, ms. */
  intervalMs: number;
  log?: (line: string) => void;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface PropagationResult {
  informers: number;
  workers: number;
  writes: number;
  /** Deliveries seen (writes × informers when nothing was lost). */
  samples: number;
  missing: number;
  /** From just before the PUT is sent to the moment a watcher received the event. */
  fromSend: Percentiles;
  /** From the PUT's 200 response at the writer to the same (negative when the watch beat the response). */
  fromAck: Percentiles;
  /** The PUT itself (HTTP → instance → etcd commit → response). */
  put: Percentiles;
}

function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(s.at(-1) ?? NaN) };
}
const round = (x: number) => Math.round(x * 100) / 100;

export async function measurePropagation(o: PropagationOptions): Promise<PropagationResult> {
  const seen = new Map<string, number[]>();
  const children: ChildProcess[] = [];
  const per = Math.ceil(o.informers / o.workers);
  try {
    const ready: Promise<void>[] = [];
    for (let first = 0; first < o.informers; first += per) {
      const child = fork(WORKER, [], {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          ETCD_URL: o.etcdUrl,
          CACHE_KEY_PREFIX: o.prefix,
          INFORMERS: String(Math.min(per, o.informers - first)),
          FIRST_INFORMER: String(first),
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      ready.push(
        new Promise((resolve, reject) => {
          child.on('message', (m: { type: string; seen?: Array<[number, string, number]> }) => {
            if (m.type === 'ready') resolve();
            for (const [, key, t] of m.seen ?? []) {
              const list = seen.get(key);
              if (list) list.push(t);
              else seen.set(key, [t]);
            }
          });
          child.once('exit', (code) => reject(new Error(`propagation worker exited with ${code}`)));
        }),
      );
    }
    await Promise.all(ready);
    o.log?.(`propagation: ${o.informers} watchers live in ${children.length} processes; ${o.writes} writes …`);

    const writes: Array<{ key: string; sent: number; acked: number }> = [];
    const run = `${process.pid}-${Date.now()}`;
    for (let i = 0; i < o.writes; i++) {
      const key = `prop/${run}/${i}`;
      const sent = now();
      const res = await fetch(configUrl({ url: o.writeUrl }, key), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(i) });
      const acked = now();
      if (res.status !== 200) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      writes.push({ key, sent, acked });
      await new Promise((r) => setTimeout(r, o.intervalMs));
    }
    // Let the last deliveries arrive.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && writes.some((w) => (seen.get(w.key)?.length ?? 0) < o.informers)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const fromSend: number[] = [];
    const fromAck: number[] = [];
    let missing = 0;
    for (const w of writes) {
      const times = seen.get(w.key) ?? [];
      missing += Math.max(0, o.informers - times.length);
      for (const t of times) {
        fromSend.push(t - w.sent);
        fromAck.push(t - w.acked);
      }
    }
    return {
      informers: o.informers,
      workers: children.length,
      writes: o.writes,
      samples: fromSend.length,
      missing,
      fromSend: percentiles(fromSend),
      fromAck: percentiles(fromAck),
      put: percentiles(writes.map((w) => w.acked - w.sent)),
    };
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.send({ type: 'stop' });
          }),
      ),
    );
  }
}
