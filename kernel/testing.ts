// Test helpers: the app in-process or as a real child process (service helpers come from test-services.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrap, type Kernel } from './bootstrap.ts';
import type { Env } from './config.ts';
import type { ModuleDefinition } from './module.ts';
import { listen } from './server.ts';
import { freePort, tempDir } from './test-services.ts';

export * from './test-services.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
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

