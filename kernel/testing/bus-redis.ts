// Test helper: a redis-server of the test's own on a free port in a temp dir, to kill and restart (bus outages, lost data).
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { freePort, tempDir } from './services.ts';

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export interface RedisServer {
  url: string;
  dir: string;
  /** SIGKILL: a crash (what Redis had not written to its AOF is lost; without AOF, everything). */
  kill(): Promise<void>;
  /** Starts again on the same port and dir (with another persistence setting when given). */
  restart(opts?: { appendonly: boolean }): Promise<void>;
  /** Kills it and removes its dir. */
  close(): Promise<void>;
}

/** Whether `redis-server` is installed. */
export function redisServerInstalled(): Promise<boolean> {
  return new Promise((resolve) =>
    spawn(REDIS_SERVER_BIN, ['--version'])
      .once('error', () => resolve(false))
      .once('exit', (c) => resolve(c === 0)),
  );
}

/** `appendonly`: the persistence the bus asks for (AOF, fsync every second); false: the ephemeral kind (no AOF, no RDB). */
export async function startRedisServer(opts: { appendonly: boolean }): Promise<RedisServer> {
  const port = await freePort();
  const dir = tempDir('cantons-redis-');
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const args = (appendonly: boolean) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    appendonly ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
  ];

  async function start(appendonly = opts.appendonly): Promise<void> {
    child = spawn(REDIS_SERVER_BIN, args(appendonly), { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        // Loading the AOF answers LOADING until done.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  async function kill(): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    url,
    dir,
    kill,
    restart: (again) => start(again?.appendonly ?? opts.appendonly),
    async close() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
