import { basename } from 'node:path';
import pg from 'pg';
import { grpcLoad, threadsClient, unary } from '../grpc-load.ts';
import type { VirtualUser } from '../load.ts';
import {
  check,
  defineScenario,
  median,
  measure,
  ratioAndCpu,
  roundsFlag,
  type BenchIO,
  type BenchOptions,
  type CheckResult,
  type MeasureLoad,
  type RatioResult,
  type RunRecord,
} from '../scenario.ts';
import { freePort, spawnBaseline, spawnCantons, stopServers, type ServerProcess } from '../servers.ts';
import { makeCertificates, type TestCertificates } from '../../kernel/testing/certificates.ts';
import benchmarkScenario from './benchmark.ts';

/** The original (Sanic + grpcio on Postgres) as the issue measured it: it cannot run here (no PyPI, no Sanic package). */
const ORIGINAL_PROPOSALS_PER_SECOND = 300;
const PROPOSAL_TARGET = 5 * ORIGINAL_PROPOSALS_PER_SECOND;
const FLOOR_TARGET = 0.8;
const PRODUCTS = 10;
/** Where each Postgres run gets a fresh database of its own (--pg). */
export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

// Unique across every run of this process: each proposal needs a name of its own.
let proposals = 0;
const PROPOSAL_TAGS = ['bench', 'writes'];
const proposalLoad: MeasureLoad = {
  async step(vu: VirtualUser) {
    const n = ++proposals;
    const body = {
      project_name: `writes ${process.pid} ${vu.id} ${n}`,
      tagline: 'a realistic tagline of a few words',
      tags: PROPOSAL_TAGS,
      problems: ['the problem, in a sentence of some length'],
      solutions: ['the solution, in a sentence of some length'],
    };
    const res = await vu.client.post('/projects/propose', body, { step: 'propose', expect: 200 });
    if (!Number.isInteger(res.body?.project_id) || res.body.project_id < 1) throw new Error(`propose answered ${JSON.stringify(res.body)}`);
  },
};

const orderLoad: MeasureLoad = {
  async step(vu: VirtualUser) {
    const body = { order_details: [{ product_id: `p${vu.random.int(0, PRODUCTS - 1)}`, price: '10.99', quantity: 1 }] };
    const res = await vu.client.post('/orders', body, { step: 'order', expect: 200 });
    if (!Number.isInteger(res.body?.id) || res.body.id < 1) throw new Error(`order answered ${JSON.stringify(res.body)}`);
  },
};

async function seedProducts(url: string): Promise<void> {
  for (let i = 0; i < PRODUCTS; i++) {
    const res = await fetch(`${url}/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: `p${i}`, title: `product ${i}`, passenger_capacity: 1, maximum_speed: 1, in_stock: 1_000_000_000 }),
    });
    if (!res.ok) throw new Error(`seed POST /products: ${res.status} ${await res.text()}`);
  }
}

/** A fresh Postgres database per server (dropped after): every run starts from empty tables, as SQLite's temp dir does. */
async function freshDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `cantons_writes_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = async (q: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/** A server on a fresh Postgres database of its own, dropped after it stops. */
async function onFreshDatabase(pgUrl: string, start: (url: string) => Promise<ServerProcess>): Promise<{ server: ServerProcess; cleanup(): Promise<void> }> {
  const database = await freshDatabase(pgUrl);
  try {
    return { server: await start(database.url), cleanup: database.drop };
  } catch (err) {
    await database.drop();
    throw err;
  }
}

export interface Target {
  label: string;
  /** A cantons target (run from each --checkouts root); the others are floors. */
  cantons: boolean;
  /** `env`: added to the server's (bench/profile/run.ts's profiler). */
  start(root: string | undefined, pgUrl: string, env?: Record<string, string>): Promise<{ server: ServerProcess; cleanup?(): Promise<void> }>;
  /** The floor it is judged against, when not its part's first (a key of TARGETS). */
  floor?: string;
  seed?(url: string): Promise<void>;
  load: MeasureLoad;
}

/** Each write path and its floors; bench/profile/run.ts profiles them too. */
export const TARGETS = {
  'proposal-floor': {
    label: 'bare koa + proposal rows, group commit',
    cantons: false,
    start: async (_, __, env) => ({ server: await spawnBaseline('proposal-floor', { env }) }),
    load: proposalLoad,
  },
  propose: {
    label: 'cantons POST /projects/propose (SQLite)',
    cantons: true,
    start: async (root, _, env) => ({ server: await spawnCantons({ MODULES: 'crowdfund', ...env }, { name: 'cantons crowdfund', root }) }),
    load: proposalLoad,
  },
  'proposal-floor-pg': {
    label: 'bare koa + proposal rows, one Postgres statement',
    cantons: false,
    start: (_, pgUrl, env) => onFreshDatabase(pgUrl, (url) => spawnBaseline('proposal-pg-floor', { env: { ...env, DATABASE_URL: url } })),
    load: proposalLoad,
  },
  'propose-pg': {
    label: 'cantons POST /projects/propose (Postgres)',
    cantons: true,
    floor: 'proposal-floor-pg',
    start: (root, pgUrl, env) =>
      onFreshDatabase(pgUrl, (url) => spawnCantons({ MODULES: 'crowdfund', ...env, DATABASE_URL: url }, { name: 'cantons crowdfund pg', root })),
    load: proposalLoad,
  },
  'order-floor': {
    label: 'bare koa + order rows, group commit',
    cantons: false,
    start: async (_, __, env) => ({ server: await spawnBaseline('order-floor', { env: { ...env, FLOOR_PRODUCTS: String(PRODUCTS) } }) }),
    load: orderLoad,
  },
  order: {
    label: 'cantons POST /orders (SQLite)',
    cantons: true,
    start: async (root, _, env) => ({ server: await spawnCantons({ MODULES: 'shop', ...env }, { name: 'cantons shop', root }) }),
    seed: seedProducts,
    load: orderLoad,
  },
} satisfies Record<string, Target>;
export type TargetName = keyof typeof TARGETS;

/** Each part: its floors, then the cantons targets compared with them (with the first, unless a target names its own). */
const PARTS: Record<string, { floors: TargetName[]; targets: TargetName[] }> = {
  proposals: { floors: ['proposal-floor', 'proposal-floor-pg'], targets: ['propose', 'propose-pg'] },
  orders: { floors: ['order-floor'], targets: ['order'] },
};

/** One measurement's place in the run: its connections, its round, and where its log line and checks go. */
interface RunAt {
  c: number;
  round: number;
  rounds: number;
  opts: BenchOptions;
  io: BenchIO;
  checks: CheckResult[];
}

/** `what` at `run`'s connections and round, as its log line and its runs' label say it; logged as it starts. */
function announce(what: string, run: RunAt): string {
  const label = `${what}, ${run.c} conns${run.rounds > 1 ? ` #${run.round}` : ''}`;
  run.io.log(`${run.rounds > 1 ? `round ${run.round}/${run.rounds}: ` : ''}${label} …`);
  return label;
}

async function measureTarget(name: TargetName, root: string | undefined, run: RunAt) {
  const t: Target = TARGETS[name];
  const label = announce(`${t.label}${root ? ` @${basename(root)}` : ''}`, run);
  const { server, cleanup } = await t.start(root, String(run.opts.flags.pg));
  try {
    await t.seed?.(server.url);
    const r = await measure(label, [server], t.load, { ...run.opts, connections: run.c }, run.io);
    run.checks.push(check(`${label}: every request answered as expected`, r.errors.total === 0 && r.ok > 0, `${r.errors.total} errors of ${r.requests}`));
    return r;
  } finally {
    await stopServers(server);
    await cleanup?.();
  }
}

// Votes: gRPC over TLS, as bench/scenarios/crowdfund.ts sends them, against bare grpc-js with the same UPDATE (vote-floor.ts).
type Certs = Pick<TestCertificates, 'ca' | 'serverCert' | 'serverKey'>;

/** Cantons' Vote (`root`'s checkout) or, with `root` null, the vote floor: one thread voted UP by `run.c` calls in flight. */
async function votes(root: string | undefined | null, run: RunAt, certs: Certs) {
  const label = announce(
    root === null ? 'bare grpc-js + group-committed UPDATE, Vote over TLS' : `cantons Vote over gRPC+TLS (SQLite)${root ? ` @${basename(root)}` : ''}`,
    run,
  );
  const grpcPort = await freePort();
  const tls = { GRPC_PORT: String(grpcPort), GRPC_TLS_CERT_FILE: certs.serverCert, GRPC_TLS_KEY_FILE: certs.serverKey };
  const server =
    root === null ? await spawnBaseline('vote-floor', { env: tls }) : await spawnCantons({ MODULES: 'crowdfund', ...tls }, { name: 'cantons crowdfund', root });
  const client = threadsClient(grpcPort, certs.ca);
  try {
    let thread = 1; // the floor's seeded thread
    if (root !== null) {
      const res = await fetch(`${server.url}/projects/propose`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ project_name: 'votes', tagline: 't', problems: ['p'], solutions: ['s'] }),
      });
      const { project_id } = (await res.json()) as { project_id: number };
      let threads: any[] = [];
      while ((threads = (await unary(client, 'GetProjectThreads', { project_id })).threads).length < 2) await new Promise((r) => setTimeout(r, 10));
      thread = threads[0].thread_id;
    }
    let last = 0;
    const vote = () => unary(client, 'Vote', { thread_id: thread, direction: 'UP' }).then((counts) => (last = Math.max(last, counts.up_votes)));
    const r = await grpcLoad(label, [server], vote, run.c, run.opts.durationSec * 1000, run.opts.warmupSec * 1000);
    // The warm-up's votes count too: every OK vote (and only those) is in up_votes, as the last answers say.
    const counted = root === null ? last : (await unary(client, 'GetThread', { thread_id: thread })).up_votes;
    run.checks.push(
      check(
        `${label}: every vote answered OK and counted`,
        r.errors.total === 0 && counted >= r.ok,
        `${counted} counted, ${r.ok} OK in the run, ${r.errors.total} failed`,
      ),
    );
    return r;
  } finally {
    client.close();
    await stopServers(server);
  }
}

async function run(opts: BenchOptions, io: BenchIO) {
  const parts = typeof opts.flags.only === 'string' ? opts.flags.only.split(',') : ['proposals', 'orders', 'votes', 'callbacks'];
  const rounds = roundsFlag(opts);
  const roots: Array<string | undefined> = typeof opts.flags.checkouts === 'string' ? opts.flags.checkouts.split(',') : [undefined];
  const at = (root: string | undefined) => (root ? ` @${basename(root)}` : '');
  const points = typeof opts.flags.points === 'string' ? opts.flags.points.split(',').map(Number) : [10, 200];
  const checks: CheckResult[] = [];
  const series = new Map<string, RunRecord[]>();
  const add = (key: string, r: RunRecord) => series.set(key, [...(series.get(key) ?? []), r]);
  const certs = parts.includes('votes') ? makeCertificates() : undefined;
  const ratios: RatioResult[] = [];
  const notes: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const c of points) {
      const run: RunAt = { c, round, rounds, opts, io, checks };
      for (const part of parts.filter((p) => p in PARTS)) {
        const { floors, targets } = PARTS[part];
        const all = [...floors.map((f) => [f, undefined] as const), ...targets.flatMap((n) => roots.map((r) => [n, r] as const))];
        for (const [name, root] of round % 2 ? all : [...all].reverse()) add(`${name}${at(root)} ${c}`, await measureTarget(name, root, run));
      }
      if (parts.includes('votes')) {
        const all: Array<string | undefined | null> = [null, ...roots];
        for (const root of round % 2 ? all : [...all].reverse())
          add(root === null ? `vote-floor ${c}` : `votes${at(root)} ${c}`, await votes(root, run, certs!));
      }
    }
  }
  const runs = [...series.values()].flat();
  for (const c of points) {
    for (const part of parts.filter((p) => p in PARTS)) {
      const { floors, targets } = PARTS[part];
      for (const name of targets) {
        const floor = ((TARGETS[name] as Target).floor as TargetName | undefined) ?? floors[0];
        const floorRuns = series.get(`${floor} ${c}`)!;
        for (const [i, root] of roots.entries()) {
          const ours = series.get(`${name}${at(root)} ${c}`)!;
          ratios.push(...ratioAndCpu(`${TARGETS[name].label}${at(root)} ÷ ${TARGETS[floor].label}, ${c} conns`, ours, floorRuns, undefined, FLOOR_TARGET));
          if (part === 'proposals') {
            const rps = median(ours.map((r) => r.okRps));
            ratios.push({
              name: `${TARGETS[name].label}${at(root)}, ${c} conns: proposals/s ÷ the original's ≈ ${ORIGINAL_PROPOSALS_PER_SECOND}/s`,
              value: Math.round((rps / ORIGINAL_PROPOSALS_PER_SECOND) * 100) / 100,
              target: PROPOSAL_TARGET / ORIGINAL_PROPOSALS_PER_SECOND,
              met: rps >= PROPOSAL_TARGET,
              rounds: ours.map((r) => Math.round((r.okRps / ORIGINAL_PROPOSALS_PER_SECOND) * 100) / 100),
              detail: `median ${rps} proposals/s`,
            });
          }
          if (i > 0)
            ratios.push(
              ...ratioAndCpu(
                `${TARGETS[name].label}${at(root)} ÷ ${at(roots[i - 1]).trim()}, ${c} conns`,
                ours,
                series.get(`${name}${at(roots[i - 1])} ${c}`)!,
              ),
            );
        }
      }
    }
    if (parts.includes('votes'))
      for (const [i, root] of roots.entries()) {
        const ours = series.get(`votes${at(root)} ${c}`)!;
        notes.push(
          `votes${at(root)}, ${c} conns: median ${median(ours.map((r) => r.okRps))} votes/s, ${median(ours.map((r) => r.serverCpuUsPerOk ?? NaN))} µs of server CPU per vote`,
        );
        ratios.push(
          ...ratioAndCpu(
            `cantons Vote${at(root)} ÷ bare grpc-js + group-committed UPDATE, ${c} conns`,
            ours,
            series.get(`vote-floor ${c}`)!,
            undefined,
            FLOOR_TARGET,
          ),
        );
        if (i > 0)
          ratios.push(...ratioAndCpu(`cantons Vote${at(root)} ÷ ${at(roots[i - 1]).trim()}, ${c} conns`, ours, series.get(`votes${at(roots[i - 1])} ${c}`)!));
      }
  }
  if (parts.includes('callbacks')) {
    // The benchmark scenario's own ingestion part (cantons callbacks, bare koa POST, koa-baseline's callback-floor).
    for (const c of points) {
      io.log(`benchmark callbacks, ${c} conns (bench/scenarios/benchmark.ts --only ingest) …`);
      const flags = { only: 'ingest', rounds: String(rounds), ...(typeof opts.flags.checkouts === 'string' ? { checkouts: opts.flags.checkouts } : {}) };
      const r = await benchmarkScenario.run({ ...opts, connections: c, flags }, io);
      runs.push(...r.runs);
      checks.push(...(r.checks ?? []).map((x) => ({ ...x, name: `${x.name} (${c} conns)` })));
      ratios.push(...(r.ratios ?? []).map((x) => ({ ...x, name: `${x.name}, ${c} conns` })));
    }
  }
  notes.push(
    `the original (Sanic + grpcio on Postgres) cannot run on this machine (no PyPI access, no Debian package for Sanic): its rate is the issue's figure, ≈ ${ORIGINAL_PROPOSALS_PER_SECOND} proposals/s, so the target is ≥ ${PROPOSAL_TARGET}/s`,
    'floors (bench/baselines/write-floors.ts): bare Koa + the rows the write path leaves (proposal: project, tags, one thread per problem and solution; order: the stock taken, the order and its line), one better-sqlite3 transaction per event-loop turn, synchronous=FULL WAL, answered after the commit; the Postgres proposals against bare Koa + the same rows in one autocommitted statement per proposal (a named CTE) on a pool of 10',
    'CPU ratio = floor server CPU per request ÷ ours (target ≥ 0.8); cantons CPU includes the work after the answer (the threads role applying project_proposed, the order_created consumer, the outbox relay)',
    'votes: against bench/baselines/vote-floor.ts, bare grpc-js over TLS with the same proto, each vote one UPDATE … RETURNING in one transaction per event-loop turn, answered after the commit',
  );
  return { runs, ratios, checks, notes };
}

export default defineScenario({
  name: 'writes',
  description:
    "every durable write path against a floor of its own (issue 24 part 3): POST /projects/propose on SQLite and Postgres vs bare Koa + the proposal's rows in a group commit, and vs 5× the original's ≈ 300 proposals/s; POST /orders vs bare Koa + the order's rows; gRPC votes vs bare grpc-js + the same UPDATE; benchmark callbacks vs koa-baseline's callback-floor (the benchmark scenario's ingest part); at 10 and 200 connections; --only proposals,orders,votes,callbacks, --rounds N (alternating), --points 10,200, --checkouts DIR,DIR, --pg URL",
  defaults: { durationSec: 4 },
  flags: {
    only: { type: 'string', description: 'parts to run, of proposals,orders,votes,callbacks (default all)' },
    rounds: { type: 'string', description: 'N alternating rounds; ratios are their medians', default: '3' },
    points: { type: 'string', description: 'connection counts to measure at (default 10,200)' },
    checkouts: { type: 'string', description: 'DIR,DIR: the cantons targets from each checkout, side by side in every round' },
    pg: { type: 'string', description: 'Postgres server URL to create a fresh database in per run', default: PG_ADMIN_URL },
  },
  run,
});
