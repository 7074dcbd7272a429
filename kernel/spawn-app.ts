// The app as a real child process (`kernel/cli.ts start`) on a free port, ready at /readyz — the bench's
// servers and the multi-process tests both run it — with the free ports and scratch directories it needs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env } from './config.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

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

const scratch = new Set<string>();

/** A fresh directory, removed when the process exits. */
export function tempDir(prefix = 'cantons-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (scratch.size === 0)
    process.once('exit', () => {
      for (const d of scratch) rmSync(d, { recursive: true, force: true });
    });
  scratch.add(dir);
  return dir;
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

/**
 * `kernel/cli.ts start` as a real child process on a free port; resolves once /readyz answers 200.
 * `entry`: a compiled `dist/kernel/cli.js` (npm run build) to run with plain node instead.
 */
export async function spawnApp(env: Env, opts: { cwd?: string; readyTimeoutMs?: number; entry?: string } = {}): Promise<SpawnedApp> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const args = opts.entry ? [opts.entry, 'start'] : ['--import', 'tsx', join(ROOT, 'kernel/cli.ts'), 'start'];
  const proc = spawn(process.execPath, args, {
    cwd: opts.cwd ?? ROOT,
    // GRPC_PORT 0: a free port, so several apps (and a developer's own on 9090) never collide.
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', DATA_DIR: tempDir(), GRPC_PORT: '0', ...env, PORT: String(port) },
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
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
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
