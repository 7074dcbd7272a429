// Servers under test as real child processes: the app (kernel/cli.ts start) and bare Koa baselines.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnApp, tempDir } from '../kernel/spawn-app.ts';

export { freePort, tempDir };

const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH, '..');

export interface ServerProcess {
  name: string;
  url: string;
  port: number;
  pid: number;
  /** The DATA_DIR it was given (a fresh temp dir unless the caller chose one). */
  dataDir: string;
  /** Everything it printed so far (stdout + stderr). */
  output(): string;
  /** How many times `pattern` occurs in its output (e.g. /SQLITE_BUSY/g). */
  count(pattern: RegExp): number;
  /** User + system CPU time it has used so far, ms (Linux /proc); null where unavailable. */
  cpuMs(): number | null;
  /** SIGTERM, wait for exit; resolves the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

export type BaselineKind = 'noop-post' | 'durable-insert' | 'group-commit' | 'callback-floor' | 'constant-get' | 'read-floor' | 'vote-floor' | WriteFloorKind;
/** The write floors of bench/baselines/write-floors.ts (issue 24): bare Koa + a write path's rows, group-committed. */
export type WriteFloorKind = 'proposal-floor' | 'proposal-pg-floor' | 'order-floor';
const WRITE_FLOORS: readonly string[] = ['proposal-floor', 'proposal-pg-floor', 'order-floor'] satisfies WriteFloorKind[];

export interface BaselineOptions {
  name?: string;
  dataDir?: string;
  /** constant-get: the JSON body to answer (default {"value":"constant"}). */
  body?: unknown;
  /** constant-get: the status to answer (default 200). */
  status?: number;
  /** callback-floor: how many benchmarks (projects p0…) to seed (default 20). */
  benchmarks?: number;
  /** More environment (the profiler's NODE_OPTIONS). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

const running = new Set<ServerProcess>();

/** Stops every server this process spawned and has not stopped yet (for Ctrl-C in the bench CLI). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

export async function stopServers(...servers: (ServerProcess | undefined)[]): Promise<void> {
  await Promise.all(servers.map((s) => s?.stop()));
}

/**
 * The app as `node --import tsx kernel/cli.ts start` with `env` (MODULES, EVENTS_STORAGE_URL …) on a free
 * port, a fresh temp DATA_DIR and LOG_LEVEL=warn unless given; resolves once GET /readyz is 200.
 */
export async function spawnCantons(env: Record<string, string>, opts: { name?: string; readyTimeoutMs?: number; root?: string } = {}): Promise<ServerProcess> {
  const dataDir = env.DATA_DIR ?? tempDir('cantons-bench-');
  const port = env.PORT ? Number(env.PORT) : await freePort();
  // `root`: another checkout of this repository (a git worktree of the commit before), started by its own
  // kernel/spawn-app.ts, so its code and only its code runs.
  const start = opts.root ? ((await import(join(resolve(opts.root), 'kernel/spawn-app.ts'))) as typeof import('../kernel/spawn-app.ts')).spawnApp : spawnApp;
  const app = await start({ LOG_LEVEL: 'warn', ...env, DATA_DIR: dataDir, PORT: String(port) }, { readyTimeoutMs: opts.readyTimeoutMs });
  const name = opts.name ?? `cantons ${env.MODULES ?? '(all modules)'}`;
  return track({
    name: opts.root ? `${name} @${basename(opts.root)}` : name,
    url: app.url,
    port: app.port,
    pid: app.proc.pid!,
    dataDir,
    output: app.output,
    count: (pattern) => countIn(app.output(), pattern),
    cpuMs: () => cpuMsOf(app.proc.pid!),
    stop: app.stop,
    kill: () => app.kill('SIGKILL'),
  });
}

/** A bare server (bench/baselines/koa-baseline.ts; write-floors.ts or vote-floor.ts for a write floor) in its own process, like the app. */
export async function spawnBaseline(kind: BaselineKind, opts: BaselineOptions = {}): Promise<ServerProcess> {
  const port = await freePort();
  const dataDir = opts.dataDir ?? tempDir('cantons-baseline-');
  const floor = WRITE_FLOORS.includes(kind);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', BASELINE: kind, PORT: String(port), DATA_DIR: dataDir };
  if (floor) env.FLOOR = kind.replace(/-floor$/, '');
  if (opts.body !== undefined) env.BASELINE_BODY = JSON.stringify(opts.body);
  if (opts.status !== undefined) env.BASELINE_STATUS = String(opts.status);
  if (opts.benchmarks !== undefined) env.FLOOR_BENCHMARKS = String(opts.benchmarks);
  Object.assign(env, opts.env);
  const file = kind === 'vote-floor' ? 'baselines/vote-floor.ts' : floor ? 'baselines/write-floors.ts' : 'baselines/koa-baseline.ts';
  const proc = spawn(process.execPath, ['--import', 'tsx', join(BENCH, file)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const timeout = opts.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeout;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`baseline ${kind} exited with ${proc.exitCode} before ready:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`baseline ${kind} not ready within ${timeout} ms:\n${out}`);
    }
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return track({
    name: opts.name ?? `bare koa ${kind}`,
    url,
    port,
    pid: proc.pid!,
    dataDir,
    output: () => out,
    count: (pattern) => countIn(out, pattern),
    cpuMs: () => cpuMsOf(proc.pid!),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  });
}

function track(server: ServerProcess): ServerProcess {
  running.add(server);
  const stop = server.stop;
  const kill = server.kill;
  server.stop = () => stop().finally(() => running.delete(server));
  server.kill = () => kill().finally(() => running.delete(server));
  return server;
}

function countIn(text: string, pattern: RegExp): number {
  const global = pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
  return text.match(global)?.length ?? 0;
}

// utime and stime are fields 14 and 15 of /proc/<pid>/stat, counted after the parenthesised command name.
const TICK_MS = 10; // CLK_TCK is 100 on every Linux we run on
export function cpuMsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}
