// The benchmark module under load: callback ingestion next to a bare Koa POST and next to itself with one benchmark
// hanging on its target, then 20 concurrent benchmarks × 100 documents on the built-in target with zero delay, to their
// reports and exactly 20 emails on a local SMTP server.
import { mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { breakdown, componentOfStack } from '../profile/components.ts';
import { readStacks, shortUrl } from '../profile/cpuprofile.ts';
import type { VirtualUser } from '../load.ts';
import {
  check,
  defineScenario,
  roundsFlag,
  measure,
  median,
  ratioAndCpu,
  type BenchIO,
  type BenchOptions,
  type CheckResult,
  type MeasureLoad,
  type RatioResult,
  type RunRecord,
} from '../scenario.ts';
import { spawnBaseline, spawnCantons, stopServers, type BaselineKind } from '../servers.ts';
import { startSmtp } from '../../modules/benchmark/testing/smtp.ts';
import { hangingTarget } from './benchmark/hanging-target.ts';

const TARGET_RATIO = 0.7;
/** Issue 18: the healthy callbacks with one hanging target beside them, against the same without it. */
const HANGING_TARGET_RATIO = 0.9;
/** Benchmarks called back at once in the ingestion load: the issue's 20 concurrent benchmarks. */
const CALLBACK_WINDOW = 20;
/**
 * Running benchmarks to seed, 1000 documents each: enough that every callback of the warm-up and the run writes a
 * time (999 documents × 2 times per benchmark) up to MAX_CALLBACK_RATE, in whole windows; past it, callbacks become
 * duplicates, which write nothing, and the run says so (the "callbacks write" check).
 */
const MAX_CALLBACK_RATE = 20_000;
const ingestBenchmarks = (opts: BenchOptions) =>
  CALLBACK_WINDOW * Math.ceil(((opts.warmupSec + opts.durationSec) * MAX_CALLBACK_RATE) / (1998 * CALLBACK_WINDOW));
const JSON_HEADERS = { 'content-type': 'application/json' };

async function call(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : JSON_HEADERS,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return path.endsWith('.csv') ? text : JSON.parse(text);
}

const startBody = (url: string, name: string, count: number, extra: Record<string, unknown> = {}) => ({
  name,
  benchmark_type: 'latency',
  target_infra: 'bench',
  target_url: url,
  target_eigen_platform_version: 'bench',
  username: 'bench',
  password: 'bench-password',
  documents: { count, size_bytes: 256 },
  ...extra,
});

async function untilEnded(base: string, ids: string[], timeoutMs: number): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(ids.map((id) => call(base, 'GET', `/api/v1/benchmarks/${id}`)));
    if (views.every((v) => v.status !== 'running')) return views;
    if (Date.now() > deadline) throw new Error(`${views.filter((v) => v.status === 'running').length} benchmarks still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Callbacks as the target sends them: each virtual user takes the next (benchmark, document) and posts its start,
 * then its end, so every callback writes a time. The benchmarks are called back CALLBACK_WINDOW at a time, round
 * robin, then the next CALLBACK_WINDOW: as many at once however long the run (and however many are seeded for it).
 * The first document of each benchmark is never called back, so no benchmark ends during the run (its callbacks
 * would become 409s); past the last benchmark they start over and answer `duplicate`.
 */
function callbackLoad(targets: Array<{ project: string; host: string }>, documents: number, expect = 202) {
  const window = Math.min(CALLBACK_WINDOW, targets.length);
  const perWindow = window * (documents - 1);
  let next = 0;
  return {
    step: async (vu: VirtualUser) => {
      const i = next++;
      const j = i % perWindow;
      const t = targets[(Math.floor(i / perWindow) * window + (j % window)) % targets.length];
      const doc = 1 + Math.floor(j / window);
      const body = {
        document_name: `doc${String(doc + 1).padStart(String(documents).length, '0')}.txt`,
        eigen_document_id: String(i),
        eigen_project_id: t.project,
        benchmark_host_name: t.host,
      };
      const now = Date.now() / 1000;
      await vu.client.post('/api/v1/benchmarks/documents/', { ...body, start_time: now, end_time: null }, { step: 'callback', expect });
      await vu.client.post('/api/v1/benchmarks/documents/', { ...body, start_time: null, end_time: now + 0.001 }, { step: 'callback', expect });
    },
  };
}

/** From the server's /metrics (warm-up included): group commits, and callbacks by outcome. */
async function callbackStats(base: string) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
  const commits = value('cantons_benchmark_callback_batch_size_count');
  const size = commits ? value('cantons_benchmark_callback_batch_size_sum') / commits : 0;
  const ms = commits ? (value('cantons_benchmark_callback_flush_seconds_sum') / commits) * 1000 : 0;
  const applied = value('cantons_benchmark_callbacks_total\\{outcome="applied"\\}');
  const duplicate = value('cantons_benchmark_callbacks_total\\{outcome="duplicate"\\}');
  const counted = text.includes('cantons_benchmark_callbacks_total'); // not by checkouts older than the metric
  return {
    outcomes: counted ? { applied, duplicate } : undefined,
    note: `${commits} group commits, ${size.toFixed(1)} callbacks and ${ms.toFixed(1)} ms each on average${counted ? `; ${applied} callbacks wrote a time, ${duplicate} were duplicates` : ''}`,
  };
}

/**
 * --profile DIR: a server under the V8 profiler (bench/profile/preload.mjs), sampling from just before its measured
 * run to its exit; then its sampled CPU by component per ok request, and the top leaf frames of its handler.
 */
function profileNotes(dir: string, okCount: number, cpuUsPerOk: number | null, label: string): string[] {
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .pop();
  if (!file || okCount === 0) return [`${label}: no profile in ${dir}`];
  const stacks = readStacks(file);
  const total = stacks.reduce((sum, x) => sum + x.us, 0);
  const scale = (us: number) => (cpuUsPerOk === null ? '' : ` ≈ ${((us / total) * cpuUsPerOk).toFixed(1)} µs CPU`);
  const out = [`${label}: profile ${file}, ${(total / okCount).toFixed(1)} µs sampled per ok request; by component (share, ≈ CPU per request):`];
  for (const [c, us] of [...breakdown(stacks)].sort((a, b) => b[1] - a[1]))
    if (us / total >= 0.005) out.push(`    ${c}: ${((us / total) * 100).toFixed(1)} %${scale(us)}`);
  const self = new Map<string, number>();
  for (const st of stacks) {
    const c = componentOfStack(st.frames);
    if (c !== 'module handler' && !c.startsWith('SQLite') && !c.startsWith('validation')) continue;
    const f = st.frames[st.frames.length - 1];
    const k = `[${c.split(' ')[0]}] ${f.name} ${shortUrl(f.url)}:${f.line}`;
    self.set(k, (self.get(k) ?? 0) + st.us);
  }
  out.push('  top self frames of validation, the handler and SQLite:');
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`    ${((us / total) * 100).toFixed(1)} %  ${k}`);
  return out;
}

/** The environment that puts a server under the V8 profiler (bench/profile/preload.mjs), writing to `dir`. */
const profiled = (dir: string | undefined): Record<string, string> =>
  dir ? { NODE_OPTIONS: `--import=${new URL('../profile/preload.mjs', import.meta.url).pathname}`, PROFILE_DIR: dir } : {};

/** A bare Koa server (bench/baselines/koa-baseline.ts) under `load`; profiled into `profileDir` when given. */
async function bareRun(kind: BaselineKind, label: string, load: MeasureLoad, opts: BenchOptions, io: BenchIO, profileDir?: string) {
  const server = await spawnBaseline(kind, { benchmarks: ingestBenchmarks(opts), env: profiled(profileDir) });
  let run: RunRecord;
  try {
    io.log(`callback ingestion: ${label} …`);
    if (profileDir) process.kill(server.pid, 'SIGUSR2');
    run = await measure(label, [server], load, opts, io);
  } finally {
    await stopServers(server);
  }
  return { run, notes: profileDir ? profileNotes(profileDir, run.ok + run.warmup.ok, run.serverCpuUsPerOk, label) : [] };
}

/**
 * Issue 18: one benchmark whose target (bench/scenarios/benchmark/hanging-target.ts) accepts its login and never
 * answers, started before the load; `stillHanging` after the load throws unless that login was under way the whole
 * time, so a round whose premise failed reports no number.
 */
async function hangingBenchmark(base: string) {
  const target = await hangingTarget();
  try {
    const { benchmark_id: id } = await call(base, 'POST', '/api/v1/benchmarks/start', startBody(target.address, 'hanging target', 3));
    const deadline = Date.now() + 10_000;
    while (target.accepted() === 0) {
      if (Date.now() > deadline) throw new Error(`the hanging benchmark ${id} never connected to its target ${target.address}; not measuring`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return {
      async stillHanging(label: string) {
        const v = await call(base, 'GET', `/api/v1/benchmarks/${id}`);
        if (v.status !== 'running' || target.open() !== target.accepted())
          throw new Error(
            `${label}: the premise failed, so no number: the hanging benchmark is ${v.status}${v.error ? ` (${v.error})` : ''}, its target accepted ${target.accepted()} connections and ${target.open()} are still open (want running, every connection open)`,
          );
      },
      close: target.close,
    };
  } catch (err) {
    await target.close();
    throw err;
  }
}

/**
 * The cantons server (from `root`, another checkout, when given) seeded with ingestBenchmarks(opts) running benchmarks,
 * under the callbacks; with `hanging`, one more benchmark hangs on its target's login through the whole load.
 */
async function cantonsRun(label: string, root: string | undefined, profileDir: string | undefined, opts: BenchOptions, io: BenchIO, hanging = false) {
  // The target never calls back (the load generator does), and nothing times out during the run: not the benchmarks,
  // and not a request to a target (a hanging login outlasts the load; the same setting with and without it).
  const httpTimeoutMs = (opts.warmupSec + opts.durationSec) * 1000 + 60_000;
  const server = await spawnCantons(
    {
      MODULES: 'benchmark',
      BENCHMARK_TARGET_FAULT_SILENT: '1',
      BENCHMARK_TIMEOUT_SECONDS: '3600',
      BENCHMARK_HTTP_TIMEOUT_MS: String(httpTimeoutMs),
      ...profiled(profileDir),
    },
    { name: 'cantons benchmark', root },
  );
  const notes: string[] = [];
  let run: RunRecord | undefined;
  let writes: CheckResult | undefined;
  let hung: Awaited<ReturnType<typeof hangingBenchmark>> | undefined;
  try {
    const base = server.url;
    const ids = await Promise.all(
      Array.from({ length: ingestBenchmarks(opts) }, (_, i) =>
        call(base, 'POST', '/api/v1/benchmarks/start', startBody(`${base}/target`, `ingest ${i}`, 1000)).then((r) => r.benchmark_id as string),
      ),
    );
    // Uploads done too: the seed's multipart files parsed during the measurement would be measured instead. 120 seeded
    // benchmarks took 37–42 s on the 2-core bench machine and over 120 s beside another test suite: 3 s each allowed.
    const deadline = Date.now() + Math.max(120_000, ids.length * 3000);
    let views: any[] = [];
    for (;;) {
      views = await Promise.all(ids.map((id) => call(base, 'GET', `/api/v1/benchmarks/${id}`)));
      const waiting = views.filter((v) => !(v.project_id && v.uploaded_at)).length;
      if (!waiting) break;
      if (Date.now() > deadline) throw new Error(`${waiting} of ${ids.length} seeded benchmarks still uploading their documents; not measuring`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const targets = views.map((v) => ({ project: v.project_id as string, host: new URL(base).host }));
    if (hanging) hung = await hangingBenchmark(base);
    io.log(`callback ingestion: ${label} …`);
    if (profileDir) process.kill(server.pid, 'SIGUSR2');
    run = await measure(label, [server], callbackLoad(targets, 1000), opts, io);
    await hung?.stillHanging(label);
    const stats = await callbackStats(base);
    notes.push(`${label}: ${stats.note}`);
    const o = stats.outcomes;
    if (o)
      writes = check(
        `${label}: callbacks write (≤ 5 % duplicates)`,
        o.duplicate <= 0.05 * (o.applied + o.duplicate),
        `${o.duplicate} of ${o.applied + o.duplicate} were duplicates${o.duplicate ? '; a faster run needs more seeded documents (MAX_CALLBACK_RATE)' : ''}`,
      );
  } finally {
    await Promise.all([stopServers(server), hung?.close()]);
  }
  // The profile spans the warm-up too, so its callbacks count in the sampled µs per callback.
  if (profileDir) notes.push(...profileNotes(profileDir, run.ok + run.warmup.ok, run.serverCpuUsPerOk, label));
  return { run, notes, writes };
}

/**
 * Issue 18's ratios: the healthy callbacks with a hanging target beside them ÷ without, per round (median). Throughput
 * with ÷ without, p99 latency the other way up (without ÷ with): both 1 when the hanging target costs the others
 * nothing, lower when it slows them, so one target judges both.
 */
function hangingRatios(at: string, withIt: RunRecord[], without: RunRecord[]): RatioResult[] {
  const each = without.map((w, i) => w.latency.p99 / withIt[i].latency.p99);
  const exact = median(each);
  const p99s = (runs: RunRecord[]) => runs.map((r) => r.latency.p99.toFixed(1)).join(', ');
  return [
    ...ratioAndCpu(`callbacks${at} with a hanging target ÷ without`, withIt, without, HANGING_TARGET_RATIO),
    {
      name: `p99 callback latency${at}, without ÷ with a hanging target`,
      value: Math.round(exact * 100) / 100,
      target: HANGING_TARGET_RATIO,
      met: exact >= HANGING_TARGET_RATIO,
      rounds: each.map((v) => Math.round(v * 100) / 100),
      detail: `p99 per round: ${p99s(without)} ms without, ${p99s(withIt)} ms with`,
    },
  ];
}

async function ingestion(
  opts: BenchOptions,
  io: BenchIO,
  rounds: number,
  parts: { bare: boolean; hanging: boolean },
): Promise<{ runs: RunRecord[]; ratios: RatioResult[]; checks: CheckResult[]; notes: string[] }> {
  // --checkouts a,b: the cantons server from each checkout in every round (the commit before and this one, side by side).
  const roots: Array<string | undefined> = typeof opts.flags.checkouts === 'string' ? opts.flags.checkouts.split(',') : [undefined];
  const at = (root: string | undefined) => (root ? ` @${basename(root)}` : '');
  const notes: string[] = [];
  const cantons = roots.map(() => [] as RunRecord[]);
  const hanging = roots.map(() => [] as RunRecord[]);
  const bare: RunRecord[] = [];
  const floor: RunRecord[] = [];
  const checks: CheckResult[] = [];
  // --profile DIR: every server of a round under the profiler, each into its own folder.
  const profileDir = (round: number, name: string) => {
    if (typeof opts.flags.profile !== 'string') return undefined;
    const dir = join(opts.flags.profile, `round-${round}`, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  // One cantons run, its notes and checks kept.
  const cantonsRound = async (label: string, root: string | undefined, profile: string | undefined, withHanging: boolean) => {
    const r = await cantonsRun(label, root, profile, opts, io, withHanging);
    notes.push(...r.notes);
    checks.push(check(`${r.run.label}: zero errors`, r.run.errors.total === 0, `${r.run.errors.total} errors of ${r.run.requests}`));
    if (r.writes) checks.push(r.writes);
    return r.run;
  };
  for (let round = 1; round <= rounds; round++) {
    const suffix = rounds > 1 ? ` #${round}` : '';
    for (const [i, root] of roots.entries()) {
      const name = `cantons${root ? `-${basename(root)}` : ''}`;
      cantons[i].push(await cantonsRound(`cantons callbacks${at(root)}${suffix}`, root, profileDir(round, name), false));
      // Issue 18: the same server and load again, right after, with one benchmark hanging on its target beside them.
      if (parts.hanging)
        hanging[i].push(await cantonsRound(`cantons callbacks, a hanging target beside${at(root)}${suffix}`, root, profileDir(round, `${name}-hanging`), true));
    }
    if (!parts.bare) continue;
    // The floor's own seed: as many projects p0… on host "floor", 1000 documents each, as above. The bare POST gets
    // the same callbacks (and answers each 201 after reading it).
    const floorTargets = Array.from({ length: ingestBenchmarks(opts) }, (_, i) => ({ project: `p${i}`, host: 'floor' }));
    const b = await bareRun('noop-post', `bare koa POST${suffix}`, callbackLoad(floorTargets, 1000, 201), opts, io, profileDir(round, 'bare'));
    const f = await bareRun(
      'callback-floor',
      `bare koa + callback statements${suffix}`,
      callbackLoad(floorTargets, 1000),
      opts,
      io,
      profileDir(round, 'floor'),
    );
    bare.push(b.run);
    floor.push(f.run);
    notes.push(...b.notes, ...f.notes);
  }
  const ratios = [
    ...roots.flatMap((root, i) => [
      ...(parts.bare
        ? [
            ...ratioAndCpu(`callbacks${at(root)} ÷ bare koa POST`, cantons[i], bare, TARGET_RATIO, TARGET_RATIO),
            ...ratioAndCpu(`callbacks${at(root)} ÷ bare koa + callback statements`, cantons[i], floor),
          ]
        : []),
      // The change's own effect: this checkout against the one before it, round by round.
      ...(i > 0 ? ratioAndCpu(`callbacks${at(root)} ÷ ${at(roots[i - 1]).trim()}`, cantons[i], cantons[i - 1]) : []),
      ...(parts.hanging ? hangingRatios(at(root), hanging[i], cantons[i]) : []),
    ]),
    // What a callback's match and durable write cost with no framework at all: the best any callback handler could reach.
    ...(parts.bare ? ratioAndCpu('bare koa + callback statements ÷ bare koa POST (the floor)', floor, bare) : []),
  ];
  return { runs: [...cantons.flat(), ...hanging.flat(), ...bare, ...floor], ratios, checks, notes };
}

async function concurrent(io: BenchIO, count: number, documents: number) {
  const smtp = await startSmtp(); // the bench's MailHog: a real SMTP server counting what it accepts
  const checks: CheckResult[] = [];
  const notes: string[] = [];
  const server = await spawnCantons(
    { MODULES: 'benchmark', BENCHMARK_TARGET_DELAY_MS: '0', BENCHMARK_TARGET_CONCURRENCY: '64', SMTP_URL: smtp.url, BENCHMARK_NOTIFY_TO: 'bench@example.com' },
    { name: 'cantons benchmark' },
  );
  try {
    const base = server.url;
    io.log(`${count} concurrent benchmarks × ${documents} documents …`);
    const t0 = Date.now();
    const ids = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        call(base, 'POST', '/api/v1/benchmarks/start', startBody(`${base}/target`, `concurrent ${i}`, documents)).then((r) => r.benchmark_id as string),
      ),
    );
    const views = await untilEnded(base, ids, 300_000);
    const wallMs = Date.now() - t0;
    // From the last callback (the newest end_time) to the report (finished_at), per benchmark.
    const lags = views.map((v) => Date.parse(v.finished_at) - Math.max(...v.documents.map((d: any) => Date.parse(d.ended_at ?? v.finished_at))));
    let lost = 0;
    let duplicated = 0;
    for (const v of views) {
      const rows = ((await call(base, 'GET', `/api/v1/benchmarks/${v.benchmark_id}/report.csv`)) as string).trimEnd().split('\r\n').slice(1);
      const names = rows.map((r) => r.split(',')[4]);
      duplicated += names.length - new Set(names).size;
      lost += documents - rows.filter((r) => !r.endsWith(',')).length;
    }
    const emailDeadline = Date.now() + 30_000;
    while (smtp.mails.length < count && Date.now() < emailDeadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    checks.push(
      check(
        `${count} benchmarks completed`,
        views.every((v) => v.status === 'completed'),
        views
          .map((v) => v.status)
          .filter((s) => s !== 'completed')
          .join(', ') || 'all completed',
      ),
    );
    checks.push(check('zero lost documents', lost === 0, `${lost} of ${count * documents} without both times`));
    checks.push(check('zero duplicated documents', duplicated === 0, `${duplicated} duplicate rows`));
    checks.push(check(`exactly ${count} emails`, smtp.mails.length === count, `${smtp.mails.length} emails`));
    notes.push(
      `${count} × ${documents} documents: all reports after ${wallMs} ms (${Math.round((count * documents * 1000) / wallMs)} documents/s end to end, two callbacks each)`,
      `last callback → report: median ${Math.round(median(lags))} ms, max ${Math.max(...lags)} ms (finished_at − newest ended_at, per benchmark)`,
    );
    return { checks, notes };
  } finally {
    await stopServers(server);
    await smtp.close();
  }
}

async function run(opts: BenchOptions, io: BenchIO) {
  const parts = typeof opts.flags.only === 'string' ? opts.flags.only.split(',') : ['ingest', 'hanging', 'concurrent'];
  const rounds = roundsFlag(opts);
  const count = Number(opts.flags.benchmarks ?? 20);
  const documents = Number(opts.flags.documents ?? 100);
  const runs: RunRecord[] = [];
  const ratios: RatioResult[] = [];
  const checks: CheckResult[] = [];
  const notes = [
    'callbacks: each request is a target callback that writes a start or end time (callbacks arriving together share one commit); the batch completing a benchmark publishes DocumentUpdated; the bare Koa POST reads the same JSON and answers 201',
    `rounds alternate cantons and bare Koa, one server at a time; the ratio is the median of the per-round ratios, target ≥ ${TARGET_RATIO}`,
    'the floor is bare Koa plus the least a callback must do (bench/baselines/koa-baseline.ts callback-floor): match the running benchmark by host, project and document, write the time once, in a transaction per event-loop turn (synchronous=FULL), 202 after the commit; when the floor itself is under the target, no callback handler meets it',
  ];
  if (parts.includes('hanging'))
    notes.push(
      `a hanging target: right after each cantons run, the same again with one more benchmark started first whose target (127.0.0.1, node:net) accepts its login and never answers; the round fails unless that login was under way from before the warm-up to the end (BENCHMARK_HTTP_TIMEOUT_MS outlasts the load); throughput with ÷ without and p99 without ÷ with, target ≥ ${HANGING_TARGET_RATIO}`,
    );
  if (parts.includes('ingest') || parts.includes('hanging')) {
    const r = await ingestion(opts, io, rounds, { bare: parts.includes('ingest'), hanging: parts.includes('hanging') });
    runs.push(...r.runs);
    ratios.push(...r.ratios);
    checks.push(...r.checks);
    notes.push(...r.notes);
  }
  if (parts.includes('concurrent')) {
    const c = await concurrent(io, count, documents);
    checks.push(...c.checks);
    notes.push(...c.notes);
  }
  return { runs, ratios, checks, notes };
}

export default defineScenario({
  name: 'benchmark',
  description:
    'benchmark module: target callback ingestion vs a bare Koa POST (--rounds N, default 3) and vs itself with one benchmark hanging on its target (issue 18), then --benchmarks 20 concurrent benchmarks × --documents 100 on the built-in target with zero delay, to 20 emails; --only ingest,hanging,concurrent; --profile DIR (a V8 CPU profile of each ingestion server, by component); --checkouts DIR,DIR (the cantons server from each checkout, e.g. git worktrees of consecutive commits, side by side in every round)',
  defaults: { connections: 200, durationSec: 10 },
  flags: {
    only: { type: 'string', description: 'parts to run, of ingest,hanging,concurrent (default all three)' },
    rounds: { type: 'string', description: 'N alternating rounds of the ingestion comparison', default: '3' },
    profile: { type: 'string', description: 'DIR: a V8 CPU profile of each ingestion server (cantons, bare, floor), by component' },
    checkouts: { type: 'string', description: 'DIR,DIR: the cantons server from each checkout, side by side in every round' },
    benchmarks: { type: 'string', description: 'N concurrent benchmarks in the concurrent part (default 20)' },
    documents: { type: 'string', description: 'N documents per concurrent benchmark (default 100)' },
  },
  run,
});
