// A throwaway etcd for the cache scenario: the `etcd` binary on free ports in a temp data dir, until close().
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { freePort, tempDir } from '../kernel/spawn-app.ts';

export interface EtcdProcess {
  url: string;
  close(): Promise<void>;
}

export async function startEtcd(bin = process.env.ETCD_BIN ?? 'etcd'): Promise<EtcdProcess> {
  const dataDir = tempDir('cantons-bench-etcd-');
  const url = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  const proc = spawn(
    bin,
    [
      '--name',
      'bench',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      url,
      '--advertise-client-urls',
      url,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `bench=${peer}`,
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d).slice(-4000);
  });
  const spawned = new Promise<void>((resolve, reject) => proc.once('spawn', resolve).once('error', reject));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const close = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await spawned;
  } catch (err) {
    throw new Error(`cannot start ${bin} (Debian: apt-get install etcd-server, or pass --etcd-url): ${(err as Error).message}`);
  }
  for (const deadline = Date.now() + 20_000; ; ) {
    if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}: ${stderr}`);
    const healthy = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).then(
      async (r) => r.ok && (await r.json()).health === 'true',
      () => false,
    );
    if (healthy) return { url, close };
    if (Date.now() > deadline) {
      await close();
      throw new Error(`etcd did not become healthy within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
