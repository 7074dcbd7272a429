// Test helper: a real etcd server on free ports in a temp data dir, with kill/restart/compact for fault tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort } from '../../../kernel/test-services.ts';

export const ETCD_BIN = process.env.ETCD_BIN ?? 'etcd';

export interface EtcdServer {
  /** `http://127.0.0.1:<client port>` */
  url: string;
  dataDir: string;
  /** Stops with SIGTERM and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: the crash the fault tests simulate. */
  kill(): Promise<void>;
  /** Starts again on the same ports and data dir (after stop or kill). */
  restart(): Promise<void>;
  /** Compacts history up to `revision` (default: the current revision); returns that revision. */
  compact(revision?: number): Promise<number>;
  /** A fresh client (closed by `close()`). */
  client(): Etcd3;
  /** Stops the server and removes its data dir. */
  close(): Promise<void>;
}

export async function startEtcd(opts: { log?: boolean } = {}): Promise<EtcdServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cantons-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'default', '--data-dir', dataDir,
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `default=${peer}`, '--log-level', 'error', '--logger', 'zap',
  ];
  let proc: ChildProcess | undefined;
  const clients: Etcd3[] = [];

  const launch = async () => {
    const child = spawn(ETCD_BIN, args, { stdio: ['ignore', opts.log ? 'inherit' : 'ignore', opts.log ? 'inherit' : 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    proc = child;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${stderr}`);
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok && (await res.json()).health === 'true') return;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`etcd did not become healthy within 20 s: ${stderr}`);
  };

  const halt = async (signal: NodeJS.Signals) => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  };

  await launch();
  return {
    url,
    dataDir,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
    async compact(revision) {
      const c = new Etcd3({ hosts: url });
      try {
        const rev = revision ?? Number((await c.kv.range({ key: Buffer.from('\0'), limit: 1, keys_only: true })).header.revision);
        await c.kv.compact({ revision: rev, physical: true });
        return rev;
      } finally {
        c.close();
      }
    },
    client() {
      const c = new Etcd3({ hosts: url });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients.splice(0)) c.close();
      await halt('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
