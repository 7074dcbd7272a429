// Test helper: a real etcd server on free ports in a temp data dir, with kill/restart/compact for fault tests;
// optionally with TLS (throwaway CA, server and client certificates made with openssl) and with auth enabled.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3, Range } from 'etcd3';
import { createEtcdClient } from '../../modules/cache/api/etcd-client.ts';
import { makeCertificates, openssl, type TestCertificates } from './certificates.ts';
import { freePort } from './services.ts';

export const ETCD_BIN = process.env.ETCD_BIN ?? 'etcd';

/** PEM files for a TLS etcd: the CA that signed everything, and a client certificate it accepts. */
export interface EtcdTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface EtcdStartOptions {
  log?: boolean;
  /** https:// client URL with a throwaway CA; clients must present a certificate it signed (--client-cert-auth). */
  tls?: boolean;
  /**
   * Enables auth after the first start: user `root` (password `rootPassword`) and, per entry of `users`,
   * a user with a role `<name>-rw` granting readwrite on `prefix`. Tokens expire after `tokenTtlSeconds`
   * (default 300): simple ones after that long unused, JWTs that long after they were issued.
   */
  auth?: {
    users?: Array<{ name: string; password: string; prefix: string }>;
    tokenTtlSeconds?: number;
    /** `simple` (default): opaque tokens held in etcd's memory; `jwt`: signed tokens (ES256, a throwaway key) that carry the auth revision. */
    tokens?: 'simple' | 'jwt';
  };
}

export interface EtcdServer {
  /** `http://127.0.0.1:<client port>` (`https://` with `tls`) */
  url: string;
  dataDir: string;
  /** The certificates, with `tls`. */
  tls?: EtcdTlsFiles;
  /** The root user's password, with `auth`. */
  rootPassword?: string;
  /** Stops with SIGTERM and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: the crash the fault tests simulate. */
  kill(): Promise<void>;
  /** Starts again on the same ports and data dir (after stop or kill). */
  restart(): Promise<void>;
  /** Compacts history up to `revision` (default: the current revision); returns that revision. */
  compact(revision?: number): Promise<number>;
  /** A fresh client (closed by `close()`), with the client certificate and as root when those are on. */
  client(): Etcd3;
  /** Stops the server and removes its data dir. */
  close(): Promise<void>;
}

/** An ES256 key pair for etcd's JWT tokens: jwt.key, jwt.pub in `dir`. */
function makeJwtKeys(dir: string): void {
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'jwt.key'));
  openssl('pkey', '-in', join(dir, 'jwt.key'), '-pubout', '-out', join(dir, 'jwt.pub'));
}

/** GET /health over https with the test CA and client certificate. */
function httpsHealth(url: string, tls: EtcdTlsFiles): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/health`,
      {
        ca: readFileSync(tls.caFile),
        cert: readFileSync(tls.certFile),
        key: readFileSync(tls.keyFile),
        timeout: 1000,
        // No SNI for an IP address (RFC 6066; Node warns otherwise); the certificate is checked against 127.0.0.1.
        servername: '',
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 && JSON.parse(body).health === 'true');
          } catch {
            resolve(false);
          }
        });
      },
    );
    req.on('error', () => resolve(false)).on('timeout', () => req.destroy());
    req.end();
  });
}

export async function startEtcd(opts: EtcdStartOptions = {}): Promise<EtcdServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cantons-etcd-'));
  const keyDir = opts.tls || opts.auth?.tokens === 'jwt' ? mkdtempSync(join(tmpdir(), 'cantons-etcd-keys-')) : undefined;
  const cleanup = () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  };
  let certs: TestCertificates | undefined;
  try {
    certs = opts.tls ? makeCertificates(keyDir!) : undefined;
    if (opts.auth?.tokens === 'jwt') makeJwtKeys(keyDir!);
  } catch (err) {
    cleanup();
    throw err;
  }
  const tls: EtcdTlsFiles | undefined = certs && { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey };
  const rootPassword = opts.auth ? randomBytes(9).toString('base64url') : undefined;
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name',
    'default',
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
    `default=${peer}`,
    '--log-level',
    'error',
    '--logger',
    'zap',
  ];
  if (certs) {
    args.push('--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--trusted-ca-file', certs.ca, '--client-cert-auth');
  }
  if (opts.auth) {
    // The lowest bcrypt cost keeps each authentication cheap.
    const ttl = opts.auth.tokenTtlSeconds ?? 300;
    const token =
      opts.auth.tokens === 'jwt' ? `jwt,pub-key=${join(keyDir!, 'jwt.pub')},priv-key=${join(keyDir!, 'jwt.key')},sign-method=ES256,ttl=${ttl}s` : 'simple';
    args.push('--auth-token', token, '--auth-token-ttl', String(ttl), '--bcrypt-cost', '4');
  }
  // A plain etcd gets the etcd3 client as it comes. With TLS or auth, the module's own client
  // (createEtcdClient), which renews its token after an auth change (see etcd-client.ts).
  const newClient = (asRoot: boolean): Etcd3 =>
    tls || asRoot
      ? createEtcdClient({
          ETCD_URL: [url],
          CACHE_ETCD_TIMEOUT_MS: 5000,
          ETCD_CA_FILE: tls?.caFile,
          ETCD_CERT_FILE: tls?.certFile,
          ETCD_KEY_FILE: tls?.keyFile,
          ...(asRoot && rootPassword && { ETCD_USERNAME: 'root', ETCD_PASSWORD: rootPassword }),
        })
      : new Etcd3({ hosts: url });
  let authEnabled = false;
  let proc: ChildProcess | undefined;
  const clients: Etcd3[] = [];

  const healthy = async () => {
    if (tls) return httpsHealth(url, tls);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok && (await res.json()).health === 'true';
    } catch {
      return false; // not listening yet
    }
  };

  const launch = async () => {
    const child = spawn(ETCD_BIN, args, { stdio: ['ignore', opts.log ? 'inherit' : 'ignore', opts.log ? 'inherit' : 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    proc = child;
    await new Promise((resolve, reject) =>
      child.once('spawn', resolve).once('error', (err) => reject(new Error(`cannot start ${ETCD_BIN} (Debian: apt-get install etcd-server): ${err.message}`))),
    );
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${stderr}`);
      if (await healthy()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`etcd did not become healthy within 20 s: ${stderr}`);
  };

  const enableAuth = async (auth: NonNullable<EtcdStartOptions['auth']>) => {
    const c = newClient(false);
    try {
      await c.role('root').create();
      await c.user('root').create(rootPassword!);
      await c.user('root').addRole('root');
      for (const u of auth.users ?? []) {
        const role = `${u.name}-rw`;
        await c.role(role).create();
        await c.role(role).grant({ permission: 'Readwrite', range: Range.prefix(u.prefix) });
        await c.user(u.name).create(u.password);
        await c.user(u.name).addRole(role);
      }
      await c.auth.authEnable();
      authEnabled = true;
    } finally {
      c.close();
    }
  };

  const halt = async (signal: NodeJS.Signals) => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  };

  try {
    await launch();
    if (opts.auth) await enableAuth(opts.auth);
  } catch (err) {
    await halt('SIGKILL');
    cleanup();
    throw err;
  }
  return {
    url,
    dataDir,
    tls,
    rootPassword,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
    async compact(revision) {
      const c = newClient(authEnabled);
      try {
        const rev = revision ?? Number((await c.kv.range({ key: Buffer.from('\0'), limit: 1, keys_only: true })).header.revision);
        await c.kv.compact({ revision: rev, physical: true });
        return rev;
      } finally {
        c.close();
      }
    },
    client() {
      const c = newClient(authEnabled);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients.splice(0)) c.close();
      await halt('SIGTERM');
      cleanup();
    },
  };
}
