// The config cache under the original's load test (PUT ×1, GET ×20, DELETE ×1 per user loop) on 1 and N instances on etcd,
// cached-GET throughput against a bare Koa constant GET, and cross-instance propagation over 64 etcd watchers.
import type { VirtualUser } from '../load.ts';
import { createRandom, type Random } from '../random.ts';
import { table } from '../report.ts';
import { check, defineScenario, measure, ratio, type BenchIO, type BenchOptions, type CheckResult, type MeasureLoad, type RunRecord } from '../scenario.ts';
import { spawnBaseline, spawnCantons, stopServers, type ServerProcess } from '../servers.ts';
import { startBalancer } from '../cache/balancer.ts';
import { cachedRead, configUrl, timeUntilSeen } from '../cache/instances.ts';
import { measurePropagation, type PropagationResult } from '../cache/propagation.ts';
import { startEtcd, type EtcdServer } from '../../kernel/testing/etcd.ts';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const letters = (r: Random, n: number) => Array.from({ length: n }, () => LETTERS[r.int(0, LETTERS.length - 1)]).join('');

const PUT = 'PUT /config/[key]';
const GET_CACHED = 'GET /config/[key]?use_cache=true';
const GET_FRESH = 'GET /config/[key]?use_cache=false';
const DELETE = 'DELETE /config/[key]';

/** The original locust user: own 64-letter key and 32-letter value; half read cached, half from etcd; every GET is checked. */
function originalLoad(mismatches: Record<string, number>): MeasureLoad {
  return {
    async setup(vu: VirtualUser) {
      vu.state.key = letters(vu.random, 64);
      vu.state.value = letters(vu.random, 32);
      vu.state.useCache = vu.id % 2 === 0;
    },
    async step(vu: VirtualUser) {
      const { key, value, useCache } = vu.state as { key: string; value: string; useCache: boolean };
      await vu.client.put(`/config/${key}`, value, { step: PUT, expect: 200 });
      const name = useCache ? GET_CACHED : GET_FRESH;
      for (let i = 0; i < 20; i++) {
        const res = await vu.client.get(`/config/${key}?use_cache=${useCache}`, { step: name, expect: 200 });
        if (res.body !== value) {
          mismatches[name] = (mismatches[name] ?? 0) + 1;
          throw new Error(`${name} answered ${JSON.stringify(res.body)?.slice(0, 60)} instead of the value just written`);
        }
      }
      await vu.client.delete(`/config/${key}`, { step: DELETE, expect: 204 });
    },
  };
}

function constantGet(path: string, value: string, step: string): MeasureLoad {
  return {
    async step(vu: VirtualUser) {
      const res = await vu.client.get(path, { step, expect: 200 });
      if (res.body !== value) throw new Error(`${step} answered ${JSON.stringify(res.body)?.slice(0, 60)}`);
    },
  };
}

/** The original's table: per request type, count, failures, median, average, min, max (ms), req/s. */
function originalTable(run: RunRecord, mismatches: Record<string, number>): string {
  const rows = [['type', 'name', 'count', 'failures', 'median', 'average', 'min', 'max', 'req/s']];
  const secs = run.elapsedMs / 1000;
  for (const name of [PUT, GET_CACHED, GET_FRESH, DELETE]) {
    const s = run.steps[name];
    if (!s) continue;
    const [type, path] = [name.slice(0, name.indexOf(' ')), name.slice(name.indexOf(' ') + 1)];
    const f = (x: number) => x.toFixed(1);
    rows.push([
      type,
      path,
      String(s.requests),
      String(s.errors + (mismatches[name] ?? 0)),
      f(s.latency.p50),
      f(s.latency.avg),
      f(s.latency.min),
      f(s.latency.max),
      (s.requests / secs).toFixed(0),
    ]);
  }
  return `${run.label}:\n${table(rows)}`;
}

function loadChecks(label: string, run: RunRecord, mismatches: Record<string, number>): CheckResult[] {
  const wrong = Object.values(mismatches).reduce((a, b) => a + b, 0);
  return [
    check(`${label}: every GET returned the value written`, wrong === 0, `${wrong} wrong values (incl. warm-up)`),
    check(`${label}: zero 5xx`, run.errors.status5xx === 0, `${run.errors.status5xx} of ${run.requests}`),
    check(`${label}: zero network errors`, run.errors.network === 0, `${run.errors.network}`),
    check(`${label}: every request answered as expected`, run.errors.total === 0, `${run.errors.total} errors`),
  ];
}

/** PUT on one instance, then at once a cached GET on the next: how often the other instance had not caught up yet. */
async function crossInstanceProbe(servers: ServerProcess[], rounds: number): Promise<string> {
  let behind = 0;
  const waits: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const [a, b] = [servers[i % servers.length], servers[(i + 1) % servers.length]];
    const key = `probe/${process.pid}/${i}`;
    const value = JSON.stringify(String(i));
    const res = await fetch(`${a.url}/config/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: value });
    if (res.status !== 200) throw new Error(`probe PUT: ${res.status}`);
    const t0 = performance.now();
    let first = true;
    for (;;) {
      const got = await fetch(`${b.url}/config/${key}`);
      if ((await got.text()) === value) break;
      if (first) behind++;
      first = false;
      if (performance.now() - t0 > 2000) throw new Error(`probe: ${b.url} did not see ${key} within 2 s`);
    }
    if (!first) waits.push(performance.now() - t0);
    await fetch(`${a.url}/config/${key}`, { method: 'DELETE' });
  }
  const worst = waits.length ? Math.max(...waits).toFixed(1) : '0';
  return `cross-instance read right after a write (PUT on one instance, then at once a cached GET on another, ${rounds} rounds): ${behind} reads (${((behind / rounds) * 100).toFixed(1)}%) still saw the old state; it arrived within ${worst} ms at worst`;
}

function propagationNotes(p: PropagationResult): string[] {
  const ms = (x: { p50: number; p99: number; max: number }) => `p50 ${x.p50} ms, p99 ${x.p99} ms, max ${x.max} ms`;
  return [
    `propagation over ${p.informers} watchers (${p.informers} informers, each its own etcd client, connection and watch, in ${p.workers} worker processes; the module's Informer class), ${p.writes} writes through one cache instance, ${p.samples} deliveries, ${p.missing} missing:`,
    `  from PUT sent → applied in each watcher: ${ms(p.fromSend)}  — target p99 < 50 ms: ${p.fromSend.p99 < 50 ? 'MET' : 'NOT MET'}`,
    `  from PUT answered (200) → applied: ${ms(p.fromAck)} (negative: the watch beat the response)`,
    `  the PUT itself (HTTP → instance → etcd commit with fsync → 200): ${ms(p.put)}`,
  ];
}

const SETUPS = ['ratio', 'one', 'many', 'propagation', 'processes'] as const;
const CHECK_AT_MS = [10, 25, 50];

async function run(opts: BenchOptions, io: BenchIO) {
  const only = typeof opts.flags.only === 'string' ? opts.flags.only.split(',') : [...SETUPS];
  const unknown = only.filter((o) => !(SETUPS as readonly string[]).includes(o));
  if (unknown.length) throw new Error(`--only: unknown part ${unknown.join(', ')}; use ${SETUPS.join(',')}`);
  const instances = Number(opts.flags.instances ?? 4);
  const informers = Number(opts.flags.informers ?? 64);
  const writes = Number(opts.flags.writes ?? 200);
  const runs: RunRecord[] = [];
  const checks: CheckResult[] = [];
  const ratios = [];
  const notes: string[] = [];

  let etcd: EtcdServer | undefined;
  const etcdUrl = typeof opts.flags['etcd-url'] === 'string' ? opts.flags['etcd-url'] : undefined;
  if (!etcdUrl) {
    io.log('starting etcd (temp data dir) …');
    etcd = await startEtcd();
  }
  const ETCD_URL = etcdUrl ?? etcd!.url;
  const prefix = `bench-${process.pid}-${Date.now()}/`;
  const cacheEnv = { MODULES: 'cache', ETCD_URL, CACHE_KEY_PREFIX: prefix };
  const spawnCache = (i: number) => spawnCantons(cacheEnv, { name: `cache #${i + 1}` });
  const random = createRandom();
  const value = letters(random, 32);
  const key = letters(random, 64);

  try {
    if (only.includes('ratio')) {
      io.log('bare koa constant GET …');
      const baseline = await spawnBaseline('constant-get', { body: value });
      let bare: RunRecord;
      try {
        bare = await measure('bare koa constant GET', [baseline], constantGet(`/config/${key}`, value, 'GET constant'), opts, io);
      } finally {
        await stopServers(baseline);
      }
      io.log('cantons cache, 1 instance, cached GET of one key …');
      const [one] = [await spawnCache(0)];
      try {
        const put = await fetch(`${one.url}/config/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
        if (put.status !== 200) throw new Error(`PUT: ${put.status} ${await put.text()}`);
        const cached = await measure('cantons cached GET', [one], constantGet(`/config/${key}?use_cache=true`, value, GET_CACHED), opts, io);
        runs.push(bare, cached);
        ratios.push(ratio('cached GET ÷ bare koa constant GET', cached, bare, 0.9));
        checks.push(check('cantons cached GET: every answer was the value', cached.errors.total === 0, `${cached.errors.total} errors`));
      } finally {
        await stopServers(one);
      }
    }

    if (only.includes('one')) {
      io.log('original load test, 1 instance …');
      const one = await spawnCache(0);
      try {
        const mismatches: Record<string, number> = {};
        const r = await measure('original test, 1 instance', [one], originalLoad(mismatches), opts, io);
        runs.push(r);
        checks.push(...loadChecks('1 instance', r, mismatches));
        notes.push(originalTable(r, mismatches));
      } finally {
        await stopServers(one);
      }
    }

    if (only.includes('many') || only.includes('propagation')) {
      io.log(`${instances} instances …`);
      const servers = await Promise.all(Array.from({ length: instances }, (_, i) => spawnCache(i)));
      try {
        if (only.includes('many')) {
          const lb = await startBalancer(servers.map((s) => s.url));
          try {
            io.log(`original load test, ${instances} instances behind a round-robin L4 balancer …`);
            const mismatches: Record<string, number> = {};
            const r = await measure(`original test, ${instances} instances`, servers, { ...originalLoad(mismatches), url: lb.url }, opts, io);
            runs.push(r);
            checks.push(...loadChecks(`${instances} instances`, r, mismatches));
            notes.push(originalTable(r, mismatches));
            notes.push(`${instances} instances: connections per instance ${lb.counts.join('/')} (L4: a keep-alive connection stays on one instance)`);
          } finally {
            await lb.close();
          }
          io.log('cross-instance read-after-write probe …');
          notes.push(await crossInstanceProbe(servers, 300));
        }
        if (only.includes('propagation')) {
          io.log(`propagation: ${informers} watchers …`);
          const p = await measurePropagation({
            etcdUrl: ETCD_URL,
            prefix,
            writeUrl: servers[0].url,
            informers,
            workers: 4,
            writes,
            intervalMs: 10,
            log: io.log,
          });
          notes.push(...propagationNotes(p));
          checks.push(check('propagation: every write reached every watcher', p.missing === 0, `${p.missing} of ${p.writes * p.informers} deliveries missing`));
        }
      } finally {
        await stopServers(...servers);
      }
    }
    if (only.includes('processes')) {
      const count = Number(opts.flags.processes ?? 64);
      const rounds = Number(opts.flags['process-writes'] ?? 96);
      io.log(`propagation across ${count} app processes: starting them, 8 at a time …`);
      const apps: ServerProcess[] = [];
      try {
        for (let i = 0; i < count; i += 8) {
          apps.push(...(await Promise.all(Array.from({ length: Math.min(8, count - i) }, (_, j) => spawnCache(i + j)))));
        }
        // Each write is read on a rotating sample of 8 processes at one moment after the PUT was sent
        // (10, 25 or 50 ms): 8 reads come back within a few ms, where a burst on all 63 would take ~100 ms
        // on two cores and measure itself. Over the writes every process is sampled at every moment.
        const SAMPLE = 8;
        const hits = new Map<number, { seen: number; reads: number }>(CHECK_AT_MS.map((t) => [t, { seen: 0, reads: 0 }]));
        let missing = 0;
        for (let w = 0; w < rounds; w++) {
          const k = `propagation-${w}`;
          const v = JSON.stringify(`${w}-${value}`);
          const at = CHECK_AT_MS[w % CHECK_AT_MS.length];
          const sample = Array.from({ length: SAMPLE }, (_, j) => apps[1 + ((w * SAMPLE + j) % (count - 1))]);
          const since = performance.now();
          const put = await fetch(configUrl(apps[0], k), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: v });
          if (put.status !== 200) throw new Error(`PUT ${k}: ${put.status} ${await put.text()}`);
          const wait = since + at - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const shown = await Promise.all(sample.map(async (a) => (await cachedRead(a, k)).text === v));
          const h = hits.get(at)!;
          h.reads += SAMPLE;
          h.seen += shown.filter(Boolean).length;
          // Whatever was not there yet must arrive eventually.
          for (const [i, a] of sample.entries()) {
            if (!shown[i]) await timeUntilSeen(a, k, v, since, 2000).catch(() => missing++);
          }
        }
        const at50 = hits.get(50)!;
        notes.push(
          `propagation across ${count} app processes (MODULES=cache, each its own etcd watch): ${rounds} writes through process 1, each read with use_cache=true on ${SAMPLE} of the ${count - 1} others at one moment after the PUT was sent: ` +
            [...hits].map(([t, h]) => `by ${t} ms ${h.seen}/${h.reads} (${((h.seen / h.reads) * 100).toFixed(1)} %)`).join(', ') +
            ` — target p99 < 50 ms: ${at50.seen >= 0.99 * at50.reads ? 'MET' : 'NOT MET'} (≥ 99 % of reads at 50 ms show the write)`,
        );
        checks.push(
          check(
            `propagation across ${count} processes: every sampled read saw the write within 2 s`,
            missing === 0,
            `${missing} of ${rounds * SAMPLE} sampled reads never saw the write`,
          ),
        );
      } finally {
        await stopServers(...apps);
      }
    }
  } finally {
    await etcd?.close();
  }
  notes.push(
    `closed loop, ${opts.connections} virtual users; the load generator, etcd (fsync on every write) and the instances share this machine's cores`,
    "writes go through etcd: PUT and DELETE latency is mostly etcd's commit (fsync); use_cache=false GETs are linearizable etcd reads",
  );
  return { runs, ratios, checks, notes };
}

export default defineScenario({
  name: 'cache',
  description:
    'config cache on etcd: the original load test (PUT, 20× GET, DELETE; half cached) on 1 and --instances=4 instances, cached GET ÷ bare Koa constant GET, propagation over --informers=64 watchers and across --processes=64 app processes; --only ratio,one,many,propagation,processes; --etcd-url to use a running etcd',
  defaults: { connections: 50, durationSec: 10 },
  flags: {
    only: { type: 'string', description: 'parts to run, of ratio,one,many,propagation,processes (default all)' },
    instances: { type: 'string', description: 'N app instances behind the balancer in the "many" part (default 4)' },
    informers: { type: 'string', description: 'N watchers in the propagation part (default 64)' },
    writes: { type: 'string', description: 'N writes in the propagation part (default 200)' },
    processes: { type: 'string', description: 'N app processes in the processes part (default 64)' },
    'process-writes': { type: 'string', description: 'N writes in the processes part (default 96)' },
    'etcd-url': { type: 'string', description: 'URL of a running etcd to use instead of starting one' },
  },
  run,
});
