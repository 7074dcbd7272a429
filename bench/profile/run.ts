// `tsx bench/profile/run.ts <target> [--seconds S] [--connections N] [--out DIR] [--svg FILE] [--checkout DIR] [--sql]`: a cantons server
// (or a floor) under the CPU profiler (node --cpu-prof's, started by ./preload.mjs) while the bench's load runs against it, then
// its CPU by component per request and a flame-graph SVG. The targets are the kernel scenario's and the writes scenario's.
// --sql: instead of the profiler, the CPU of each SQLite statement text per request (./sql-cost.mjs).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcd } from '../../kernel/testing/etcd.ts';
import { measure, type BenchIO } from '../scenario.ts';
import { spawnBaseline, stopServers, tempDir, type ServerProcess } from '../servers.ts';
import { TARGETS, VALUE, type Target, type TargetName } from '../scenarios/kernel.ts';
import { PG_ADMIN_URL, TARGETS as WRITES, type TargetName as WriteName } from '../scenarios/writes.ts';
import { flameGraphSvg, readStacks, shortUrl } from './cpuprofile.ts';
import { breakdown, colourOf, componentOfStack } from './components.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const name = args[0] as TargetName | WriteName;
if (!name || !(name in TARGETS || name in WRITES)) {
  process.stderr.write(
    `usage: tsx bench/profile/run.ts <${[...Object.keys(TARGETS), ...Object.keys(WRITES)].join('|')}> [--seconds 10] [--connections 200] [--out DIR] [--svg FILE] [--top COMPONENT] [--checkout DIR] [--sql]\n`,
  );
  process.exit(2);
}
const seconds = Number(flag('seconds', '10'));
const connections = Number(flag('connections', name === 'events-post' ? '200' : '50'));
const out = flag('out', tempDir('cantons-profile-'));
mkdirSync(out, { recursive: true });
const io: BenchIO = { log: (l) => process.stdout.write(`${l}\n`), progress: false };
const sql = args.includes('--sql');
const sqlCostFile = join(out, 'sql-cost.json');

const labelOf = (n: string) => (n in WRITES ? WRITES[n as WriteName].label : TARGETS[n as TargetName].label);

/** The target's server with `env` added to its environment, what it is called, its load and what to clean up after. */
async function startTarget(env: Record<string, string>) {
  const checkout = flag('checkout', '') || undefined;
  if (name in WRITES) {
    const w = WRITES[name as WriteName];
    const started: { server: ServerProcess; cleanup?(): Promise<void> } = await w.start(checkout, PG_ADMIN_URL, env);
    return { ...started, label: w.label, load: w.load, seed: 'seed' in w ? w.seed : undefined };
  }
  const target: Target = TARGETS[name as TargetName];
  const etcd = name === 'cache-get' ? await startEtcd() : undefined;
  const server =
    name === 'noop' || name === 'constant'
      ? await spawnBaseline(name === 'noop' ? 'noop-post' : 'constant-get', { env, body: VALUE })
      : await target.start(etcd?.url, env, checkout);
  return { server, label: target.label, load: target.load, seed: target.seed, cleanup: etcd?.close };
}

// --from FILE --requests N --cpu US: only the report, from a profile taken before (by this script).
const from = flag('from', '');
let requests = Number(flag('requests', '0'));
let cpuPerRequest: number | null = from ? Number(flag('cpu', 'NaN')) : null;
if (!from) {
  const preload = new URL(sql ? './sql-cost.mjs' : './preload.mjs', import.meta.url).pathname;
  const t = await startTarget({ NODE_OPTIONS: `--import=${preload}`, ...(sql ? { SQL_COST_FILE: sqlCostFile } : { PROFILE_DIR: out }) });
  try {
    await t.seed?.(t.server.url);
    await measure(`${t.label} warm-up`, [t.server], t.load, { connections, durationSec: 2, warmupSec: 0, flags: {} }, io);
    process.kill(t.server.pid, 'SIGUSR2');
    const r = await measure(t.label, [t.server], t.load, { connections, durationSec: seconds, warmupSec: 0, flags: {} }, io);
    requests = r.ok;
    cpuPerRequest = r.serverCpuUsPerOk;
    io.log(
      `${r.label}: ${r.okRps} ok/s, ${r.serverCpuUsPerOk} µs server CPU per request (${sql ? 'statements timed' : 'profiler on'}), ${r.errors.total} errors`,
    );
  } finally {
    await stopServers(t.server);
    await t.cleanup?.();
  }
}
if (sql) {
  // Written at the server's exit: each statement text's calls and CPU, per request of the measured run.
  const costs = (JSON.parse(readFileSync(sqlCostFile, 'utf8')) as { sql: string; calls: number; cpuUs: number }[]).sort((a, b) => b.cpuUs - a.cpuUs);
  const all = costs.reduce((sum, c) => sum + c.cpuUs, 0);
  io.log(
    `\nSQLite statements: ${(all / requests).toFixed(1)} µs of CPU per request\n| statement | calls per request | CPU µs per call | CPU µs per request |\n|---|---|---|---|`,
  );
  for (const c of costs)
    io.log(
      `| ${c.sql.replace(/\s+/g, ' ').slice(0, 90)} | ${(c.calls / requests).toFixed(2)} | ${(c.cpuUs / c.calls).toFixed(1)} | ${(c.cpuUs / requests).toFixed(1)} |`,
    );
  process.exit(0);
}
// The profile covers the measured run and shutdown (a few ms), so CPU ÷ requests is per request.
const file =
  from ||
  readdirSync(out)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(out, f))
    .pop();
if (!file) throw new Error(`no .cpuprofile in ${out}`);
const stacks = readStacks(file);
const total = stacks.reduce((s, x) => s + x.us, 0);
io.log(`\n${file}: ${(total / 1000).toFixed(0)} ms of CPU sampled over ${requests} requests = ${(total / requests).toFixed(1)} µs per request`);
// Sampled time is on-thread time: on a busy machine it includes moments the thread was runnable but
// descheduled (and a syscall's wait), so the shares are what compares; the CPU column scales them to the
// server CPU per request measured over the same run.
io.log('| component | share of sampled time | sampled µs per request | ≈ CPU µs per request |\n|---|---|---|---|');
for (const [c, us] of [...breakdown(stacks)].sort((a, b) => b[1] - a[1])) {
  const cpu = cpuPerRequest === null ? '-' : ((us / total) * cpuPerRequest).toFixed(1);
  if (us > 0) io.log(`| ${c} | ${((us / total) * 100).toFixed(1)} % | ${(us / requests).toFixed(1)} | ${cpu} |`);
}
const top = flag('top', '');
if (top) {
  // One component's leaf frames by self time (`--top other`): what it is made of, and what the rules should learn next.
  const self = new Map<string, number>();
  for (const s of stacks) {
    if (!componentOfStack(s.frames).startsWith(top)) continue;
    const f = s.frames[s.frames.length - 1];
    const k = `${f.name} ${shortUrl(f.url)}:${f.line} < ${s.frames
      .slice(-4, -1)
      .map((x) => x.name)
      .join(' < ')}`;
    self.set(k, (self.get(k) ?? 0) + s.us);
  }
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) io.log(`${(us / requests).toFixed(2)} µs  ${k}`);
}
const svg = flag('svg', join(out, `${name}.svg`));
writeFileSync(svg, flameGraphSvg(stacks, flag('title', `${labelOf(name)}: server CPU under load`), colourOf));
io.log(`\nflame graph: ${svg}`);
