// Test helpers: the app in-process or as a real child process, free ports, temp dirs, real-service checks.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { bootstrap, type Kernel } from './bootstrap.ts';
import type { Env } from './config.ts';
import type { ModuleDefinition } from './module.ts';
import { listen } from './server.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh directory, removed when the process exits. */
export function tempDir(prefix = 'cantons-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

export interface TestApp {
  url: string;
  kernel: Kernel;
  close(): Promise<void>;
}

/** The whole app in this process on a free port, on a fresh DATA_DIR, started and ready. */
export async function startTestApp(opts: { env?: Env; modules?: ModuleDefinition<any>[] } = {}): Promise<TestApp> {
  const kernel = bootstrap({ env: { LOG_LEVEL: 'silent', DATA_DIR: tempDir(), ...opts.env }, modules: opts.modules });
  const running = await listen(kernel, 0, '127.0.0.1');
  try {
    await kernel.start();
  } catch (err) {
    await running.shutdown();
    throw err;
  }
  return { url: `http://127.0.0.1:${running.port}`, kernel, close: async () => void (await running.shutdown()) };
}

export interface SpawnedApp {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Output so far (stdout + stderr), for assertions and failure messages. */
  output(): string;
  /** SIGTERM and wait; resolves the exit code. */
  stop(): Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `kernel/cli.ts start` as a real child process on a free port; resolves once /readyz answers 200. */
export async function spawnApp(env: Env, opts: { cwd?: string; readyTimeoutMs?: number } = {}): Promise<SpawnedApp> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'kernel/cli.ts'), 'start'], {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', DATA_DIR: tempDir(), ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`app exited with ${proc.exitCode} before ready:\n${output}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`app not ready within ${opts.readyTimeoutMs ?? 30_000} ms:\n${output}`);
    }
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    proc,
    output: () => output,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** A new Postgres database for this test run; `drop()` removes it. */
export async function createTestDatabase(prefix = 'cantons_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(1000);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.connect(Number(u.port || defaultPort), u.hostname);
  });
}

/**
 * True when the service answers; otherwise skips the test with a message naming what is missing,
 * or fails it when CI=true (CI must run every test).
 */
export async function needService(t: TestContext, service: 'postgres' | 'redis' | 'etcd'): Promise<boolean> {
  let ok: boolean;
  if (service === 'postgres') ok = await reachable(PG_URL, 5432);
  else if (service === 'redis') ok = await reachable(REDIS_URL, 6379);
  else ok = await new Promise((resolve) => spawn('etcd', ['--version']).once('error', () => resolve(false)).once('exit', (c) => resolve(c === 0)));
  if (ok) return true;
  const why = service === 'etcd' ? 'etcd is not installed (apt-get install etcd-server)' : `${service} is not reachable`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI requires it`);
  t.skip(why);
  return false;
}
