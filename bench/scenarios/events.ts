// Events ingest under load, side by side: cantons (one process and split), bare Koa no-op and naive durable insert.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { VirtualUser } from '../load.ts';
import { createClient } from '../load.ts';
import { idPool } from '../random.ts';
import { check, cpuRatio, defineScenario, measure, ratio, type BenchIO, type BenchOptions, type CheckResult, type MeasureLoad, type RatioResult, type RunRecord } from '../scenario.ts';
import { spawnBaseline, spawnCantons, stopServers, type ServerProcess } from '../servers.ts';

// The JMeter plan's CSV pools and Random functions: a few thousand devices spread over ski resorts.
const DEVICES = idPool('device', 5000);
const RESORTS = idPool('resort', 60);
const LIFTS = idPool('lift', 25);

/** Half snow reports, half lift rides, each with a fresh UUID trace id in X-Trace-Id. */
function ingestLoad(verifyTrace: boolean): MeasureLoad {
  return {
    step: async (vu: VirtualUser) => {
      const r = vu.random;
      const traceId = r.uuid();
      const common = { device_id: r.pick(DEVICES), resort_id: r.pick(RESORTS) };
      const res = r.bool()
        ? await vu.client.post('/events/snow-reports', { ...common, depth: r.int(0, 400), timestamp: r.recentIso() },
          { step: 'snow-report', headers: { 'x-trace-id': traceId }, expect: 201 })
        : await vu.client.post('/events/lift-rides', { ...common, lift_id: r.pick(LIFTS), wait_minutes: r.int(0, 60), timestamp: r.recentIso() },
          { step: 'lift-ride', headers: { 'x-trace-id': traceId }, expect: 201 });
      if (verifyTrace && res.body?.trace_id !== traceId) throw new Error(`201 without our trace id (got ${JSON.stringify(res.body)})`);
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
  return check(`${label}: every 201 is stored`, stored >= acked && stored <= acked + lost, `${stored} rows after shutdown for ${acked} acknowledged (incl. warm-up)`);
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

const SETUPS = ['noop', 'insert', 'cantons', 'split'] as const;
type Setup = (typeof SETUPS)[number];

/** Each setup in a fresh server (and data directory): measure it, check what it must guarantee. */
function setups(opts: BenchOptions, io: BenchIO, checks: CheckResult[]): Record<Setup, (label: string) => Promise<RunRecord>> {
  const writer = opts.flags.writer === undefined ? 'inline' : String(opts.flags.writer);
  if (!['inline', 'thread'].includes(writer)) throw new Error(`--writer: use inline or thread, got ${writer}`);
  return {
    noop: (label) => withServers(async () => [await spawnBaseline('noop-post')], (s) => measure(label, s, ingestLoad(false), opts, io)),
    insert: (label) => withServers(async () => [await spawnBaseline('durable-insert')], async (s) => {
      const r = await measure(label, s, ingestLoad(false), opts, io);
      const rows = (await createClient(s[0].url).get('/_baseline/count')).body.rows as number;
      checks.push(check(`${label}: every 201 is stored`, rows === r.warmup.ok + r.ok, `${rows} rows for ${r.warmup.ok + r.ok} acknowledged`));
      return r;
    }),
    cantons: (label) => withServers(async () => [await spawnCantons({ MODULES: 'events', EVENTS_SQLITE_WRITER: writer }, { name: 'cantons events' })], async (s) => {
      const r = await measure(label, s, ingestLoad(true), opts, io);
      checks.push(...serverChecks(label, r, s));
      await stopServers(...s);
      checks.push(durabilityCheck(label, r, storedEvents(s[0].dataDir)));
      return r;
    }),
    split: (label) => withServers(async () => {
      const storage = await spawnCantons({ MODULES: 'events.storage' }, { name: 'events.storage' });
      try {
        const receiver = await spawnCantons({ MODULES: 'events.receiver', EVENTS_STORAGE_URL: storage.url }, { name: 'events.receiver' });
        return [storage, receiver];
      } catch (err) {
        await storage.stop();
        throw err;
      }
    }, async (s) => {
      const r = await measure(label, s, { ...ingestLoad(true), url: s[1].url }, opts, io);
      checks.push(...serverChecks(label, r, s));
      await stopServers(s[1], s[0]);
      checks.push(durabilityCheck(label, r, storedEvents(s[0].dataDir)));
      return r;
    }),
  };
}

const LABELS: Record<Setup, string> = {
  noop: 'bare koa no-op',
  insert: 'bare koa insert/request',
  cantons: 'cantons events',
  split: 'cantons split (2 procs)',
};

async function run(opts: BenchOptions, io: BenchIO) {
  const checks: CheckResult[] = [];
  const only = typeof opts.flags.only === 'string' ? opts.flags.only.split(',') : [...SETUPS];
  const unknown = only.filter((o) => !(SETUPS as readonly string[]).includes(o));
  if (unknown.length) throw new Error(`--only: unknown setup ${unknown.join(', ')}; use ${SETUPS.join(',')}`);
  const rounds = opts.flags.rounds === undefined ? 5 : Number(opts.flags.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds needs a whole number ≥ 1, got ${opts.flags.rounds}`);

  // Rounds alternate the setups, one server at a time (no two compete for the cores): noise on a
  // shared machine then hits every setup alike, and each ratio is the median of its rounds.
  const measureSetup = setups(opts, io, checks);
  const series: Record<Setup, RunRecord[]> = { noop: [], insert: [], cantons: [], split: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const setup of SETUPS.filter((x) => only.includes(x))) {
      const label = rounds > 1 ? `${LABELS[setup]} #${round}` : LABELS[setup];
      io.log(`${rounds > 1 ? `round ${round}/${rounds}: ` : ''}${label} …`);
      series[setup].push(await measureSetup[setup](label));
    }
  }
  const runs = SETUPS.flatMap((x) => series[x]);

  const notes = [
    `closed loop: each of ${opts.connections} connections sends its next request when the last one is answered (latency excludes queueing before send)`,
    'the load generator runs in this process and shares the machine with the servers; "gen cpu" near 100% means the client, not the server, may cap rps — "srv µs/ok" (server CPU per request) does not depend on who caps it',
  ];
  for (const r of runs) if (r.loadgenCpuPercent >= 85) notes.push(`${r.label}: load generator used ${r.loadgenCpuPercent}% of a core — its rps is probably client-bound`);
  const { noop, insert, cantons, split } = series;
  const ratios: RatioResult[] = [];
  if (cantons.length && noop.length) {
    ratios.push(ratio('cantons ÷ bare no-op', cantons, noop, 0.8));
    const cpu = cpuRatio('cantons ÷ bare no-op, by server CPU per request', cantons, noop);
    if (cpu) ratios.push(cpu);
  }
  if (cantons.length && insert.length) ratios.push(ratio('cantons ÷ bare insert/request', cantons, insert, 3));
  if (split.length && cantons.length) ratios.push(ratio('split ÷ cantons', split, cantons));
  return { runs, ratios, checks, notes };
}

export default defineScenario({
  name: 'events',
  description: 'events ingest (POST snow reports + lift rides) vs bare Koa no-op and one-insert-per-request, and the split layout; --only noop,insert,cantons,split for a subset, --rounds N (default 5) alternating rounds, ratios are medians, --writer inline|thread (EVENTS_SQLITE_WRITER)',
  defaults: { connections: 200, durationSec: 10 },
  run,
});
