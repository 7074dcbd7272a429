// The kernel's per-request cost (issue 12): cantons routes against the bare Koa handler a user would write, in alternating rounds.
import { basename } from 'node:path';
import { ingestRequest } from '../ingest.ts';
import type { VirtualUser } from '../load.ts';
import { startEtcd, type EtcdServer } from '../../kernel/testing/etcd.ts';
import { startOtlpSink, type OtlpSink } from '../otlp-sink.ts';
import {
  check,
  checkedGet,
  defineScenario,
  roundsFlag,
  measure,
  ratioAndCpu,
  type BenchIO,
  type BenchOptions,
  type CheckResult,
  type MeasureLoad,
  type RatioResult,
  type RunRecord,
} from '../scenario.ts';
import { spawnBaseline, spawnCantons, stopServers, type ServerProcess } from '../servers.ts';

export const VALUE = 'kernel-bench-value-0123456789abc';
const KEY = 'kernel-bench/key';

/** One target: how to start its server, what to seed once it is up, and the request to repeat. */
export interface Target {
  label: string;
  /** `env`: extra environment for a cantons server (the profiler passes NODE_OPTIONS); `root`: another checkout to run. */
  start(etcdUrl?: string, env?: Record<string, string>, root?: string): Promise<ServerProcess>;
  seed?(url: string): Promise<void>;
  load: MeasureLoad;
  /** Which bare Koa setup it is compared with. */
  baseline?: 'noop' | 'constant';
  /** Its own floor (a read's: bare Koa plus the same query as one prepared statement), measured beside it. */
  floor?: string;
}

const send = async (url: string, method: string, path: string, body: unknown) => {
  const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`seed ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
};

/** Snow reports only (the route the target names), each with a fresh UUID X-Trace-Id, as the events scenario sends them. */
const snowReports = (verifyTrace: boolean): MeasureLoad => ({
  async step(vu: VirtualUser) {
    let q = ingestRequest(vu.random);
    while (q.path !== '/events/snow-reports') q = ingestRequest(vu.random);
    const res = await vu.client.post(q.path, q.body, { step: 'snow-report', headers: { 'x-trace-id': q.traceId }, expect: 201 });
    if (verifyTrace && res.body?.trace_id !== q.traceId) throw new Error(`201 without our trace id (got ${JSON.stringify(res.body)})`);
  },
});

// The receiver the tracing-on rounds export to, started by the first of them.
let sink: Promise<OtlpSink> | undefined;

const START = '2000-01-01T00:00:00Z';
const END = '2100-01-01T00:00:00Z';

export const TARGETS = {
  noop: { label: 'bare koa no-op POST', start: () => spawnBaseline('noop-post'), load: snowReports(false) },
  // The least code that answers 201 only after its row is durable (one transaction per event-loop turn,
  // synchronous=FULL, a unique trace id): no handler with this durability costs less.
  'durable-floor': { label: 'bare koa + minimal group commit', start: (_, env) => spawnBaseline('group-commit', { env }), load: snowReports(false) },
  'events-post': {
    label: 'cantons POST /events/snow-reports',
    start: (_, env, root) => spawnCantons({ MODULES: 'events', ...env }, { name: 'cantons events', root }),
    load: snowReports(true),
    baseline: 'noop',
  },
  'events-server-ids': {
    label: 'cantons POST /events/snow-reports, server-assigned trace ids',
    start: (_, env, root) => spawnCantons({ MODULES: 'events', ...env }, { name: 'cantons events', root }),
    load: {
      async step(vu: VirtualUser) {
        let q = ingestRequest(vu.random);
        while (q.path !== '/events/snow-reports') q = ingestRequest(vu.random);
        const res = await vu.client.post(q.path, q.body, { step: 'snow-report (no X-Trace-Id)', expect: 201 });
        if (typeof res.body?.trace_id !== 'string') throw new Error(`201 without a trace id (got ${JSON.stringify(res.body)})`);
      },
    },
    baseline: 'noop',
  },
  // Tracing on, the default batch exporter (http/protobuf, 5 s batches) to a receiver on this machine.
  'events-traced': {
    label: 'cantons POST /events/snow-reports, tracing on',
    start: async (_, env, root) =>
      spawnCantons({ MODULES: 'events', OTEL_EXPORTER_OTLP_ENDPOINT: (await (sink ??= startOtlpSink())).url, ...env }, { name: 'cantons events traced', root }),
    load: snowReports(true),
    baseline: 'noop',
  },
  constant: {
    label: 'bare koa constant GET',
    start: () => spawnBaseline('constant-get', { body: VALUE }),
    load: checkedGet(`/config/${KEY}`, 'GET constant', (b) => b === VALUE),
  },
  'cache-get': {
    label: 'cantons GET /config/<key>?use_cache=true',
    start: (etcdUrl, env, root) =>
      spawnCantons(
        { MODULES: 'cache', ETCD_URL: etcdUrl!, CACHE_KEY_PREFIX: `kernel-bench-${process.pid}-${Date.now()}/`, ...env },
        { name: 'cantons cache', root },
      ),
    seed: (url) => send(url, 'PUT', `/config/${KEY}`, VALUE),
    load: checkedGet(`/config/${KEY}?use_cache=true`, 'GET /config/:key cached', (b) => b === VALUE),
    baseline: 'constant',
  },
  product: {
    label: 'cantons GET /products/:id',
    start: (_, env, root) => spawnCantons({ MODULES: 'shop', ...env }, { name: 'cantons shop', root }),
    seed: async (url) =>
      void (await send(url, 'POST', '/products', { id: 'kernel-bench', title: 'The Odyssey', passenger_capacity: 101, maximum_speed: 5, in_stock: 1000 })),
    load: checkedGet('/products/kernel-bench', 'GET /products/:id', (b) => b?.id === 'kernel-bench'),
    baseline: 'constant',
    floor: 'product-floor',
  },
  order: {
    label: 'cantons GET /orders/:id',
    start: (_, env, root) => spawnCantons({ MODULES: 'shop', ...env }, { name: 'cantons shop', root }),
    seed: async (url) => {
      await send(url, 'POST', '/products', { id: 'kernel-bench', title: 'The Odyssey', passenger_capacity: 101, maximum_speed: 5, in_stock: 1000 });
      const order = await send(url, 'POST', '/orders', { order_details: [{ product_id: 'kernel-bench', price: '100.99', quantity: 1 }] });
      if (order.id !== 1) throw new Error(`seed order got id ${order.id}`);
    },
    load: checkedGet('/orders/1', 'GET /orders/:id', (b) => b?.id === 1),
    baseline: 'constant',
    floor: 'order-floor',
  },
  'event-at': {
    label: 'cantons GET /events/snow-reports/at/:index',
    start: (_, env, root) => spawnCantons({ MODULES: 'events', ...env }, { name: 'cantons events', root }),
    seed: seedEvents,
    load: checkedGet('/events/snow-reports/at/0', 'GET /events/snow-reports/at/:index', (b) => b?.index === 0),
    baseline: 'constant',
    floor: 'event-at-floor',
  },
  'event-list': {
    label: 'cantons GET /events/snow-reports?start…&end…&limit=1',
    start: (_, env, root) => spawnCantons({ MODULES: 'events', ...env }, { name: 'cantons events', root }),
    seed: seedEvents,
    load: checkedGet(
      `/events/snow-reports?start_timestamp=${START}&end_timestamp=${END}&limit=1`,
      'GET /events/snow-reports?query',
      (b) => b?.items?.length === 1,
    ),
    baseline: 'constant',
    floor: 'event-list-floor',
  },
  'product-floor': readFloor('product', 'shop'),
  'order-floor': readFloor('order', 'shop'),
  'event-at-floor': readFloor('event-at', 'events'),
  'event-list-floor': readFloor('event-list', 'events'),
} satisfies Record<string, Target>;
export type TargetName = keyof typeof TARGETS;

/**
 * The floor of a parameterised read (bench/baselines/koa-baseline.ts `read-floor`): the same data — cantons
 * seeds it through its API and stops — read by bare Koa with one prepared statement, the same request and answer.
 */
function readFloor(read: 'product' | 'order' | 'event-at' | 'event-list', module: string): Target {
  // TARGETS is read when a run starts: this is called while TARGETS is being built.
  const ours = (): Target => TARGETS[read];
  return {
    label: `read floor (bare koa + the same query, prepared) for ${read}`,
    async start(_, env) {
      const seeded = await spawnCantons({ MODULES: module }, { name: `cantons ${module} (seeding the floor)` });
      try {
        await ours().seed?.(seeded.url);
      } finally {
        await stopServers(seeded);
      }
      return spawnBaseline('read-floor', { dataDir: seeded.dataDir, env: { READ_FLOOR: read, ...env } });
    },
    get load() {
      return ours().load;
    },
  };
}

async function seedEvents(url: string): Promise<void> {
  for (let i = 0; i < 3; i++)
    await send(url, 'POST', '/events/snow-reports', { device_id: 'd1', resort_id: 'r1', depth: 10 + i, timestamp: '2026-01-01T00:00:00Z' });
}

/** Which targets each part measures, and at which connection counts. */
const PARTS: Record<
  string,
  { targets: TargetName[]; points: (opts: BenchOptions) => number[]; ratioTarget?: number; floor?: TargetName; floorTarget?: number }
> = {
  ingest: { targets: ['noop', 'events-post'], points: (o) => [...new Set([o.connections, 10])], ratioTarget: 0.8, floor: 'durable-floor', floorTarget: 0.9 },
  // The same POST without X-Trace-Id: the server assigns the trace id (UUIDv7 from commit 605619c on; a random UUIDv4 before).
  ids: { targets: ['noop', 'events-post', 'events-server-ids'], points: () => [200] },
  cache: { targets: ['constant', 'cache-get'], points: () => [50], ratioTarget: 0.9 },
  // Each read beside its own floor (Target.floor); the constant GET stays as the framework's own cost.
  params: { targets: ['constant', 'product', 'order', 'event-at', 'event-list'], points: () => [50], floorTarget: 0.8 },
  // What tracing costs when on: the same POST traced (each request's spans exported) against it untraced.
  tracing: { targets: ['events-post', 'events-traced'], points: (o) => [o.connections] },
};

async function measureTarget(
  name: TargetName,
  root: string | undefined,
  connections: number,
  round: number,
  rounds: number,
  opts: BenchOptions,
  io: BenchIO,
  etcdUrl: string | undefined,
  checks: CheckResult[],
): Promise<RunRecord> {
  const t: Target = TARGETS[name];
  const label = `${t.label}${root ? ` @${basename(root)}` : ''}, ${connections} conns${rounds > 1 ? ` #${round}` : ''}`;
  io.log(`${rounds > 1 ? `round ${round}/${rounds}: ` : ''}${label} …`);
  const server = await t.start(etcdUrl, undefined, root);
  try {
    await t.seed?.(server.url);
    const r = await measure(label, [server], t.load, { ...opts, connections }, io);
    checks.push(check(`${label}: zero 5xx`, r.errors.status5xx === 0, `${r.errors.status5xx} of ${r.requests}`));
    checks.push(check(`${label}: every request answered as expected`, r.errors.total === 0, `${r.errors.total} errors`));
    return r;
  } finally {
    await stopServers(server);
  }
}

async function run(opts: BenchOptions, io: BenchIO) {
  const only = typeof opts.flags.only === 'string' ? opts.flags.only.split(',') : Object.keys(PARTS);
  const unknown = only.filter((o) => !(o in PARTS));
  if (unknown.length) throw new Error(`--only: unknown part ${unknown.join(', ')}; use ${Object.keys(PARTS).join(',')}`);
  const rounds = roundsFlag(opts);
  // --checkouts a,b: every cantons target once per checkout per round (the commit before and this one, side by side).
  const roots: Array<string | undefined> = typeof opts.flags.checkouts === 'string' ? opts.flags.checkouts.split(',') : [undefined];
  const at = (root: string | undefined) => (root ? ` @${basename(root)}` : '');
  const checks: CheckResult[] = [];
  const series = new Map<string, RunRecord[]>();
  let etcd: EtcdServer | undefined;
  try {
    if (only.includes('cache')) {
      io.log('starting etcd (temp data dir) …');
      etcd = await startEtcd();
    }
    // Rounds alternate every target of every part, one server at a time; the order flips every other round.
    for (let round = 1; round <= rounds; round++) {
      for (const part of only) {
        for (const c of PARTS[part].points(opts)) {
          const [bare, ...ours] = PARTS[part].targets;
          const floors = [PARTS[part].floor, ...ours.map((n) => (TARGETS[n] as Target).floor as TargetName | undefined)].filter((f) => f !== undefined);
          const all = [[bare, undefined] as const, ...floors.map((f) => [f, undefined] as const), ...ours.flatMap((n) => roots.map((r) => [n, r] as const))];
          for (const [name, root] of round % 2 ? all : [...all].reverse()) {
            const key = `${part} ${name}${at(root)} ${c}`;
            series.set(key, [...(series.get(key) ?? []), await measureTarget(name, root, c, round, rounds, opts, io, etcd?.url, checks)]);
          }
        }
      }
    }
  } finally {
    await etcd?.close();
  }
  const exported = sink && (await sink);
  await exported?.close();
  const runs = [...series.values()].flat();
  const ratios: RatioResult[] = [];
  for (const part of only) {
    const { targets, points, ratioTarget, floorTarget } = PARTS[part];
    for (const c of points(opts)) {
      const base = series.get(`${part} ${targets[0]} ${c}`)!;
      if (PARTS[part].floor) {
        // What durability alone costs, with no framework: the best any durable handler could reach.
        const floor = PARTS[part].floor;
        ratios.push(
          ...ratioAndCpu(`${TARGETS[floor].label} ÷ ${TARGETS[targets[0]].label}, ${c} conns (the floor)`, series.get(`${part} ${floor} ${c}`)!, base),
        );
      }
      for (const name of targets.slice(1)) {
        const floor = ((TARGETS[name] as Target).floor as TargetName | undefined) ?? PARTS[part].floor;
        const floorRuns = floor && series.get(`${part} ${floor} ${c}`)!;
        for (const [i, root] of roots.entries()) {
          const ours = series.get(`${part} ${name}${at(root)} ${c}`)!;
          ratios.push(...ratioAndCpu(`${TARGETS[name].label}${at(root)} ÷ ${TARGETS[targets[0]].label}, ${c} conns`, ours, base, ratioTarget, ratioTarget));
          if (floor && floorRuns)
            ratios.push(...ratioAndCpu(`${TARGETS[name].label}${at(root)} ÷ ${TARGETS[floor].label}, ${c} conns`, ours, floorRuns, undefined, floorTarget));
          if (i === 0) continue;
          // The change's own effect: this checkout against the one before it, round by round.
          const before = series.get(`${part} ${name}${at(roots[i - 1])} ${c}`)!;
          ratios.push(...ratioAndCpu(`${TARGETS[name].label}${at(root)} ÷ ${at(roots[i - 1]).trim()}, ${c} conns`, ours, before));
        }
      }
    }
  }
  const notes = [
    "every cantons route is compared with the bare Koa handler a user would write for it (bench/baselines/koa-baseline.ts): the no-op POST reads the body with the app's reader, the constant GET answers a fixed JSON text",
    'CPU ratio = bare server CPU per request ÷ ours (1.25× the bare CPU per event is a CPU ratio of 0.8)',
    ...(only.includes('ingest')
      ? [
          'the floor (ingest) is bare Koa plus the least code that answers after a durable commit: when its own CPU ratio to the no-op is under 0.8, no handler with that durability meets the 1.25× target',
        ]
      : []),
  ];
  if (exported) notes.push(`tracing on: the local OTLP receiver took ${exported.exports} exports, ${Math.round(exported.bytes / 1024)} KiB`);
  for (const r of runs)
    if (r.loadgenCpuPercent >= 85) notes.push(`${r.label}: load generator used ${r.loadgenCpuPercent}% of a core — its rps is probably client-bound`);
  return { runs, ratios, checks, notes };
}

export default defineScenario({
  name: 'kernel',
  description:
    "the kernel's per-request cost (issue 12): POST /events/snow-reports vs the bare no-op at --connections and 10 (beside bare Koa + a minimal group commit, the durability floor), the cached GET /config/<key> and the parameterised GETs (products/:id, orders/:id, events at/:index and a range query) vs the bare constant GET at 50; --only ingest,ids,cache,params,tracing (ids: the POST without X-Trace-Id, server-assigned ids; tracing: the POST with tracing on, to a local OTLP receiver, vs off), --rounds N (default 5, alternating), --checkouts DIR,DIR (the cantons targets from each checkout, e.g. git worktrees of consecutive commits, side by side in every round)",
  defaults: { connections: 200, durationSec: 5 },
  flags: {
    only: { type: 'string', description: 'parts to run, of ingest,ids,cache,params,tracing (default all)' },
    rounds: { type: 'string', description: 'N alternating rounds; ratios are their medians', default: '5' },
    checkouts: { type: 'string', description: 'DIR,DIR: the cantons targets from each checkout, side by side in every round' },
  },
  run,
});
