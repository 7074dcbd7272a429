// A topology as local processes: every replica of every service on free ports, a balancer before each
// replicated service, the gateway before them all, and the engines the topology names — a fresh Postgres
// database, key prefixes of its own on the machine's Redis, a throwaway etcd, throwaway certificates.
// `stop()` takes every one of these away again: no process, Redis key, database, etcd data or file is left.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Env } from '../kernel/config.ts';
import { spawnApp, type SpawnedApp } from '../kernel/spawn-app.ts';
import { makeCertificates } from '../kernel/testing/certificates.ts';
import { startEtcd, type EtcdServer } from '../kernel/testing/etcd.ts';
import { createTestDatabase, REDIS_URL } from '../kernel/testing/services.ts';
import { startSmtp, type TestSmtp } from '../modules/benchmark/testing/smtp.ts';
import { balancer, gateway } from './proxy.ts';
import type { Deployment } from './suite/types.ts';
import type { ServiceSpec, Topology } from './topologies.ts';

export interface Process {
  service: string;
  /** `MODULES` it runs (empty: all). */
  modules: string;
  app: SpawnedApp;
}

export interface Running extends Deployment {
  /** The run's name: its database, its Redis key prefix, its etcd key prefix. */
  run: string;
  processes: Process[];
  /** User plus system CPU seconds of every process of the topology so far (Linux /proc). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  /** LOG_LEVEL of every process (default warn). */
  logLevel?: string;
  log?: (line: string) => void;
}

/** Host names of compose.yaml's engines, as the topologies write them. */
type Engines = Record<'postgres' | 'redis' | 'etcd', string>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function cpuOf(pid: number | undefined): number {
  try {
    // /proc/<pid>/stat: fields 14 and 15 (utime, stime) follow the parenthesised command name.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0; // exited, or not Linux
  }
}

export async function launch(topology: Topology, opts: LaunchOptions = {}): Promise<Running> {
  const log = opts.log ?? (() => {});
  const run = `cantons_t${topology.id}_${randomBytes(4).toString('hex')}`;
  const dir = join(tmpdir(), run);
  mkdirSync(dir);
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (err) {
        log(`cleanup: ${(err as Error).message}`);
      }
    }
  };
  try {
    const smtp: TestSmtp = await startSmtp();
    cleanups.push(() => smtp.close());
    let etcd: EtcdServer | undefined;
    const shared: Env = {
      HOST: '127.0.0.1',
      GRPC_HOST: '127.0.0.1',
      LOG_LEVEL: opts.logLevel ?? 'warn',
      SMTP_URL: smtp.url,
      BENCHMARK_SECRET_KEY: randomBytes(32).toString('hex'),
      BENCHMARK_TARGET_PREFIX: '/target', // the built-in target at <gateway>/target in every topology
      BENCHMARK_TARGET_DELAY_MS: '20-100',
    };
    const engines: Partial<Engines> = {};
    if (topology.servers) {
      const db = await createTestDatabase(run);
      cleanups.push(() => db.drop());
      cleanups.push(async () => void (await deleteRedisKeys(`${run}*`)));
      etcd = await startEtcd();
      cleanups.push(() => etcd!.close());
      Object.assign(engines, { postgres: db.url, redis: REDIS_URL, etcd: etcd.url });
      Object.assign(shared, {
        DATABASE_URL: db.url,
        EVENT_BUS_URL: REDIS_URL,
        BUS_STREAM_PREFIX: run,
        // The machine's Redis keeps no append-only file; what the bus loses on a Redis restart is not under test here.
        BUS_EPHEMERAL_REDIS: 'accept',
        SHOP_REDIS_PREFIX: `${run}:shop:`,
        CACHE_KEY_PREFIX: `${run}/`,
        RPC_TOKEN: randomBytes(24).toString('hex'),
      });
    }
    // One certificate for localhost, good for serving and for presenting as a client, and the CA that signed it.
    const certs = topology.services.some((s) => s.tls) ? makeCertificates(dir) : undefined;
    const tls: Env = certs ? { GRPC_TLS_CERT_FILE: certs.serverCert, GRPC_TLS_KEY_FILE: certs.serverKey, GRPC_TLS_CA_FILE: certs.ca } : {};

    // Ports first: a service's address is its balancer's with replicas, its one process's without.
    const free = await reservePorts(topology.services.reduce((n, s) => n + 2 * s.replicas + (s.replicas > 1 ? 2 : 0), 0));
    const ports = new Map<string, Array<{ http: number; grpc: number }>>();
    const addresses = new Map<string, { http: number; grpc: number }>();
    for (const s of topology.services) {
      const own = Array.from({ length: s.replicas }, () => ({ http: free.pop()!, grpc: free.pop()! }));
      ports.set(s.name, own);
      if (s.replicas === 1) addresses.set(s.name, own[0]);
      else {
        const http = await balancer(
          free.pop()!,
          own.map((p) => p.http),
        );
        const grpc = await balancer(
          free.pop()!,
          own.map((p) => p.grpc),
        );
        cleanups.push(
          () => http.close(),
          () => grpc.close(),
        );
        addresses.set(s.name, { http: http.port, grpc: grpc.port });
      }
    }
    const resolve = (value: string) => resolveAddress(value, engines as Engines, addresses, dir);

    const processes: Process[] = [];
    cleanups.push(async () => {
      await Promise.all(processes.map((p) => p.app.stop()));
    });
    // Settled, not all: a process that fails to start must not leave the others starting unseen (and unstopped).
    const started = await Promise.allSettled(
      topology.services.flatMap((s: ServiceSpec) =>
        ports.get(s.name)!.map(async (p, i) => {
          const env: Env = { ...shared, MODULES: s.modules, PORT: String(p.http), GRPC_PORT: String(p.grpc), DATA_DIR: join(dir, `${s.name}-${i + 1}`) };
          mkdirSync(env.DATA_DIR!);
          for (const [key, value] of Object.entries(s.env ?? {})) env[key] = resolve(value);
          if (s.tls) Object.assign(env, tls);
          if (!s.modules) delete env.MODULES;
          const app = await spawnApp(env, { readyTimeoutMs: 90_000 }).catch((err: Error) => {
            // spawnApp's message ends with the process's whole output; its last line says why.
            const lines = err.message.trim().split('\n');
            throw new Error(`${s.name} ${i + 1}: ${lines[0]} ${lines.at(-1)}`);
          });
          processes.push({ service: s.replicas > 1 ? `${s.name}-${i + 1}` : s.name, modules: s.modules, app });
          log(`${(s.replicas > 1 ? `${s.name}-${i + 1}` : s.name).padEnd(22)} ${app.url}${s.modules ? `  MODULES=${s.modules}` : ''}`);
        }),
      ),
    );
    const failed = started.find((x) => x.status === 'rejected');
    if (failed) throw failed.reason;
    const front = await gateway(processes.map((p) => ({ name: p.service, modules: p.modules, url: p.app.url })));
    cleanups.push(() => front.close());

    const runs = (p: Process, role: string) => !p.modules || p.modules.split(',').some((m) => m === role || m === role.split('.')[0]);
    return {
      topology: topology.id,
      run,
      gateway: front.url,
      processes,
      instances: (role) => processes.filter((p) => runs(p, role)).map((p) => p.app.url),
      mails: smtp.mails,
      etcd: etcd && { stop: () => etcd.stop(), restart: () => etcd.restart() },
      log,
      cpuSeconds: () => processes.reduce((sum, p) => sum + cpuOf(p.app.proc.pid), 0),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A value written in compose's terms, made local: `http://events-storage:8080` → the service's address here,
 * `redis://redis:6379` → the engine's URL, `/data/…` → a folder of this run (shared by the replicas, as a volume is).
 */
function resolveAddress(value: string, engines: Engines, addresses: Map<string, { http: number; grpc: number }>, dir: string): string {
  if (value.startsWith('/data/')) {
    const local = join(dir, value.slice(1));
    mkdirSync(local, { recursive: true });
    return local;
  }
  const url = /^(\w+):\/\/([\w-]+)(?::\d+)?(\/.*)?$/.exec(value);
  if (!url) return value;
  const [, scheme, host, path = ''] = url;
  if (host in engines) return engines[host as keyof Engines];
  const address = addresses.get(host);
  if (!address) return value;
  return scheme.startsWith('grpc') ? `${scheme}://localhost:${address.grpc}` : `${scheme}://127.0.0.1:${address.http}${path}`;
}

/**
 * `n` distinct free ports below the kernel's ephemeral range (32768 and up on Linux), so that no outgoing
 * connection or port-0 listener of the many processes starting at once can take one before its process binds it.
 */
async function reservePorts(n: number): Promise<number[]> {
  const held: Server[] = [];
  try {
    while (held.length < n) {
      const server = createServer();
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      const bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (bound) held.push(server);
    }
    return held.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** Deletes the keys matching `pattern` on the machine's Redis. */
export async function deleteRedisKeys(pattern: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
