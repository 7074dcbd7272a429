// Events ingest under load, side by side: cantons (one process and split) and bare Koa no-op, insert per request, group commit.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ingestRequest } from '../ingest.ts';
import type { VirtualUser } from '../load.ts';
import { createClient } from '../load.ts';
import {
  check,
  defineScenario,
  roundsFlag,
  measure,
  ratio,
  ratioAndCpu,
  type BenchIO,
  type BenchOptions,
  type CheckResult,
  type MeasureLoad,
  type RatioResult,
  type RunRecord,
} from '../scenario.ts';
import { spawnBaseline, spawnCantons, stopServers, type ServerProcess } from '../servers.ts';

/** Half snow reports, half lift rides, each with a fresh UUID trace id in X-Trace-Id. */
function ingestLoad(verifyTrace: boolean): MeasureLoad {
  return {
    step: async (vu: VirtualUser) => {
      const q = ingestRequest(vu.random);
      const res = await vu.client.post(q.path, q.body, { step: q.step, headers: { 'x-trace-id': q.traceId }, expect: 201 });
      if (verifyTrace && res.body?.trace_id !== q.traceId) throw new Error(`201 without our trace id (got ${JSON.stringify(res.body)})`);
    },
  };
}

/** Rows in the events tables of a stopped app's SQLite file (read after shutdown: only committed data counts). */
function storedEvents(dataDir: string): number | null {
  const file = join(dataDir, 'events.sqlite');
  if (!existsSync(file)) return null;
  const db = new Database(file, { readonly: true });
  try {
    const n = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return n('snow_reports') + n('lift_rides');
  } finally {
    db.close();
  }
}

function durabilityCheck(label: string, run: RunRecord, stored: number | null): CheckResult {
  const acked = run.warmup.ok + run.ok;
  // A request whose response was lost may still have committed, so up to that many extra rows are fine.
  const lost = run.errors.network + run.errors.status5xx + run.warmup.errors;
  if (stored === null) return check(`${label}: every 201 is stored`, false, 'events.sqlite not found after shutdown');
  return check(
    `${label}: every 201 is stored`,
    stored >= acked && stored <= acked + lost,
    `${stored} rows after shutdown for ${acked} acknowledged (incl. warm-up)`,
  );
}

function serverChecks(label: string, run: RunRecord, servers: ServerProcess[]): CheckResult[] {
  const busy = servers.reduce((n, s) => n + s.count(/SQLITE_BUSY/g), 0);
  return [
    check(`${label}: zero 5xx`, run.errors.status5xx === 0, `${run.errors.status5xx} of ${run.requests}`),
    check(`${label}: zero SQLITE_BUSY`, busy === 0, `${busy} in server logs`),
    check(`${label}: zero network errors`, run.errors.network === 0, `${run.errors.network}`),
    check(`${label}: every request answered 201`, run.errors.total === 0, `${run.errors.total} errors`),
  ];
}

async function withServers<T>(start: () => Promise<ServerProcess[]>, body: (servers: ServerProcess[]) => Promise<T>): Promise<T> {
  const servers: ServerProcess[] = [];
  try {
    servers.push(...(await start()));
    return await body(servers);
  } finally {
    await stopServers(...servers.reverse());
  }
}

const SETUPS = ['noop', 'insert', 'group', 'cantons', 'split'] as const;
type Setup = (typeof SETUPS)[number];

/** Each setup in a fresh server (and data directory): measure it, check what it must guarantee. */
function setups(opts: BenchOptions, io: BenchIO, checks: CheckResult[]): Record<Setup, (label: string, opts: BenchOptions) => Promise<RunRecord>> {
  const writer = opts.flags.writer === undefined ? 'inline' : String(opts.flags.writer);
  if (!['inline', 'thread'].includes(writer)) throw new Error(`--writer: use inline or thread, got ${writer}`);
  const durableBaseline = (kind: 'durable-insert' | 'group-commit', label: string, opts: BenchOptions) =>
    withServers(
      async () => [await spawnBaseline(kind)],
      async (s) => {
        const r = await measure(label, s, ingestLoad(false), opts, io);
        const rows = (await createClient(s[0].url).get('/_baseline/count')).body.rows as number;
        checks.push(check(`${label}: every 201 is stored`, rows === r.warmup.ok + r.ok, `${rows} rows for ${r.warmup.ok + r.ok} acknowledged`));
        return r;
      },
    );
  return {
    noop: (label, opts) =>
      withServers(
        async () => [await spawnBaseline('noop-post')],
        (s) => measure(label, s, ingestLoad(false), opts, io),
      ),
    insert: (label, opts) => durableBaseline('durable-insert', label, opts),
    group: (label, opts) => durableBaseline('group-commit', label, opts),
    cantons: (label, opts) =>
      withServers(
        async () => [await spawnCantons({ MODULES: 'events', EVENTS_SQLITE_WRITER: writer }, { name: 'cantons events' })],
        async (s) => {
          const r = await measure(label, s, ingestLoad(true), opts, io);
          checks.push(...serverChecks(label, r, s));
          await stopServers(...s);
          checks.push(durabilityCheck(label, r, storedEvents(s[0].dataDir)));
          return r;
        },
      ),
    split: (label, opts) =>
      withServers(
        async () => {
          const storage = await spawnCantons({ MODULES: 'events.storage' }, { name: 'events.storage' });
          try {
            const receiver = await spawnCantons({ MODULES: 'events.receiver', EVENTS_STORAGE_URL: storage.url }, { name: 'events.receiver' });
            return [storage, receiver];
          } catch (err) {
            await storage.stop();
            throw err;
          }
        },
        async (s) => {
          const r = await measure(label, s, { ...ingestLoad(true), url: s[1].url }, opts, io);
          checks.push(...serverChecks(label, r, s));
          await stopServers(s[1], s[0]);
          checks.push(durabilityCheck(label, r, storedEvents(s[0].dataDir)));
          return r;
        },
      ),
  };
}

const LABELS: Record<Setup, string> = {
  noop: 'bare koa no-op',
  insert: 'bare koa insert/request',
  group: 'bare koa group commit',
  cantons: 'cantons events',
  split: 'cantons split (2 procs)',
};

async function run(opts: BenchOptions, io: BenchIO) {
  const checks: CheckResult[] = [];
  const only = typeof opts.flags.only === 'string' ? opts.flags.only.split(',') : [...SETUPS];
  const unknown = only.filter((o) => !(SETUPS as readonly string[]).includes(o));
  if (unknown.length) throw new Error(`--only: unknown setup ${unknown.join(', ')}; use ${SETUPS.join(',')}`);
  const rounds = roundsFlag(opts);
  // Two load points by default: many connections (big commit batches) and 10 (small ones), so the
  // group-commit gain at 200 is not read as the framework costing nothing.
  const points = typeof opts.flags.points === 'string' ? opts.flags.points.split(',').map(Number) : [...new Set([opts.connections, 10])];
  if (points.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--points needs connection counts like 200,10, got ${opts.flags.points}`);

  // Rounds alternate the setups, one server at a time (no two compete for the cores): noise on a
  // shared machine then hits every setup alike, and each ratio is the median of its rounds.
  const measureSetup = setups(opts, io, checks);
  const series = new Map<string, RunRecord[]>(); // `${setup} ${connections}`
  for (let round = 1; round <= rounds; round++) {
    for (const connections of points) {
      for (const setup of SETUPS.filter((x) => only.includes(x))) {
        const label = `${LABELS[setup]}, ${connections} conns${rounds > 1 ? ` #${round}` : ''}`;
        io.log(`${rounds > 1 ? `round ${round}/${rounds}: ` : ''}${label} …`);
        const key = `${setup} ${connections}`;
        series.set(key, [...(series.get(key) ?? []), await measureSetup[setup](label, { ...opts, connections })]);
      }
    }
  }
  const runs = points.flatMap((c) => SETUPS.flatMap((x) => series.get(`${x} ${c}`) ?? []));

  const notes = [
    'closed loop: each connection sends its next request when the last one is answered (latency excludes queueing before send)',
    'the load generator runs in this process and shares the machine with the servers; "gen cpu" near 100% means the client, not the server, may cap rps — "srv µs/ok" (server CPU per request) does not depend on who caps it',
    "bare koa insert/request is the original's approach (one autocommitted INSERT, so one fsync, per request): fsync-bound by design; bare koa group commit is the least that batches (one transaction per event-loop turn, unique trace id) — the fair baseline for durable overhead",
  ];
  for (const r of runs)
    if (r.loadgenCpuPercent >= 85) notes.push(`${r.label}: load generator used ${r.loadgenCpuPercent}% of a core — its rps is probably client-bound`);
  const ratios: RatioResult[] = [];
  for (const c of points) {
    const get = (setup: Setup) => series.get(`${setup} ${c}`) ?? [];
    const [noop, insert, group, cantons, split] = [get('noop'), get('insert'), get('group'), get('cantons'), get('split')];
    const at = `, ${c} conns`;
    if (cantons.length && noop.length) ratios.push(...ratioAndCpu(`cantons ÷ bare no-op${at}`, cantons, noop, c === opts.connections ? 0.8 : undefined));
    if (cantons.length && group.length) ratios.push(...ratioAndCpu(`cantons ÷ bare group commit${at}`, cantons, group));
    if (cantons.length && insert.length) ratios.push(ratio(`cantons ÷ bare insert/request${at}`, cantons, insert, c === opts.connections ? 3 : undefined));
    if (split.length && cantons.length) ratios.push(ratio(`split ÷ cantons${at}`, split, cantons));
  }
  return { runs, ratios, checks, notes };
}

export default defineScenario({
  name: 'events',
  description:
    'events ingest (POST snow reports + lift rides) vs bare Koa no-op, one-insert-per-request and minimal group commit, and the split layout, at --connections and 10; --only noop,insert,group,cantons,split, --points 200,10, --rounds N (default 5) alternating rounds, ratios are medians, --writer inline|thread (EVENTS_SQLITE_WRITER)',
  defaults: { connections: 200, durationSec: 10 },
  flags: {
    only: { type: 'string', description: 'setups to run, of noop,insert,group,cantons,split (default all)' },
    points: { type: 'string', description: 'connection counts, e.g. 200,10 (default --connections and 10)' },
    rounds: { type: 'string', description: 'N alternating rounds; ratios are their medians', default: '5' },
    writer: { type: 'string', description: 'inline|thread: EVENTS_SQLITE_WRITER of the cantons servers (default inline)' },
  },
  run,
});
