// `npm run split [-- module …]`: compose.yaml's topology as local processes on free ports, every module's smoke test across it, then stop.
//
// Services are compose.yaml's app services with their environment; host names become 127.0.0.1 on free
// ports, Postgres and Redis are the machine's (POSTGRES_URL, REDIS_URL; a fresh database and key prefixes per run),
// etcd is our own (the `etcd` binary), the gRPC certificates are made with openssl in a temp dir. A module
// with several public services is smoke-tested through a small gateway that sends each request to the
// first of them that has the route (the others answer 404 NOT_FOUND or 405 METHOD_NOT_ALLOWED).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parse } from 'yaml';
import type { Env } from '../kernel/config.ts';
import { freePort, spawnApp, tempDir, type SpawnedApp } from '../kernel/spawn-app.ts';
import { startEtcd, type EtcdProcess } from './etcd-server.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PG_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const print = (line: string) => void process.stdout.write(`${line}\n`);

function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=cantons-split-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
  const exts = { threads: 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n', projects: 'extendedKeyUsage=clientAuth\n' };
  for (const [leaf, ext] of Object.entries(exts)) {
    writeFileSync(join(dir, `${leaf}.ext`), ext);
    ssl('req', ...ec, '-subj', `/CN=${leaf}`, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${leaf}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${leaf}.ext`,
      '-out',
      `${leaf}.crt`,
    );
  }
}

interface Forwarded {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request to an upstream as it came, Host header included (the benchmark target names its origin from it). */
function forward(upstream: string, req: IncomingMessage, body: Buffer): Promise<Forwarded> {
  const u = new URL(upstream);
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: u.hostname, port: u.port, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** One port that forwards each request to the first upstream with the route. */
function gateway(upstreams: string[]): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    try {
      let answer: Forwarded | undefined;
      for (const up of upstreams) {
        answer = await forward(up, req, body);
        if ((answer.status !== 404 && answer.status !== 405) || !/"(NOT_FOUND|METHOD_NOT_ALLOWED)"/.test(answer.body.toString())) break;
      }
      const { connection: _c, 'transfer-encoding': _t, ...headers } = answer!.headers;
      res.writeHead(answer!.status, headers).end(answer!.body);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'BAD_GATEWAY', message: (err as Error).message }));
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })),
  );
}

/** `npm run smoke -- <module> <url>`, as a person would run it (the CLI from source). */
function smoke(module: string, url: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'kernel/cli.ts'), 'smoke', module, url], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    proc.once('exit', (code) => resolve({ code, output }));
  });
}

export async function runSplit(only: string[] = [], out: (line: string) => void = print, composeFile = 'compose.yaml'): Promise<void> {
  const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as { services: Record<string, { environment?: Record<string, string> }> };
  const services = Object.entries(compose.services).filter(([, s]) => s.environment?.MODULES);
  const run = `split_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const certs = tempDir('cantons-split-certs-');
  makeCertificates(certs);
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${run}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${run}"`);
  await admin.end();
  let etcd: EtcdProcess | undefined;
  const running: SpawnedApp[] = [];
  const gateways: Server[] = [];
  try {
    etcd = await startEtcd();
    const ports = new Map<string, { port: number; grpc: number }>();
    for (const [name] of services) ports.set(name, { port: await freePort(), grpc: await freePort() });
    const infra: Record<string, string> = { postgres: dbUrl.toString(), redis: REDIS, etcd: etcd.url };
    const secrets: Env = { RPC_TOKEN: randomBytes(24).toString('hex'), BENCHMARK_SECRET_KEY: randomBytes(32).toString('hex') };
    const local = (value: string): string => {
      if (value.startsWith('/certs/')) return join(certs, value.slice('/certs/'.length));
      return value.replace(/^(\w+):\/\/(?:[^@/]*@)?([\w-]+)(?::(\d+))?(\/[^,]*)?$/, (whole, scheme: string, host: string, _port, path = '') => {
        if (infra[host]) return infra[host];
        const p = ports.get(host);
        if (!p) return whole;
        return scheme.startsWith('grpc') ? `${scheme}://localhost:${p.grpc}` : `${scheme}://127.0.0.1:${p.port}${path}`;
      });
    };
    const urls = new Map<string, string>();
    for (const [name, service] of services) {
      const env: Env = {
        HOST: '127.0.0.1',
        GRPC_HOST: '127.0.0.1',
        LOG_LEVEL: process.env.SPLIT_LOG_LEVEL ?? 'warn' /* debug: request lines */,
        BUS_STREAM_PREFIX: run,
        SHOP_REDIS_PREFIX: `${run}:shop:`,
        CACHE_KEY_PREFIX: `${run}/`,
        BUS_POLL_MS: '50',
      };
      for (const [key, value] of Object.entries(service.environment!)) {
        if (key.endsWith('_FILE') && value.startsWith('/run/secrets/')) env[key.slice(0, -5)] = secrets[key.slice(0, -5)];
        // BENCHMARK_TARGETS names compose's hosts; here everything is on loopback, which a loopback HOST allows anyway.
        else if (!['HOST', 'LOG_LEVEL', 'BENCHMARK_TARGETS'].includes(key)) env[key] = local(String(value));
      }
      env.PORT = String(ports.get(name)!.port);
      env.GRPC_PORT = String(ports.get(name)!.grpc);
      env.DATA_DIR = tempDir('cantons-split-data-');
      if (env.MODULES?.includes('benchmark.target')) Object.assign(env, { BENCHMARK_TARGET_PREFIX: '/target', BENCHMARK_TARGET_DELAY_MS: '20-100' }); // reached at <gateway>/target
      const app = await spawnApp(env, { readyTimeoutMs: 60_000 });
      running.push(app);
      urls.set(name, app.url);
      out(`${name.padEnd(20)} ${app.url}  MODULES=${env.MODULES}`);
    }
    const modulesOf = (selection: string) => new Set(selection.split(',').map((x) => x.trim().split('.')[0]));
    const names = [...new Set(services.flatMap(([, s]) => [...modulesOf(s.environment!.MODULES)]))].filter((m) => !only.length || only.includes(m));
    for (const m of names) {
      const own = services.filter(([, s]) => modulesOf(s.environment!.MODULES).has(m)).map(([name]) => urls.get(name)!);
      let base = own[0];
      if (own.length > 1 && m !== 'cache') {
        const g = await gateway(own);
        gateways.push(g.server);
        base = g.url;
      }
      for (const url of m === 'cache' ? own : [base]) {
        const { code, output } = await smoke(m, url);
        for (const line of output.trimEnd().split('\n')) out(`  ${line}`);
        if (code !== 0) throw new Error(`npm run smoke -- ${m} ${url} exited ${code}`);
      }
    }
    out(`split: ${running.length} processes, every module's smoke test passed`);
  } catch (err) {
    for (const [i, app] of running.entries()) if (app.output().trim()) out(`--- ${services[i][0]} output:\n${app.output().slice(-3000)}`);
    throw err;
  } finally {
    for (const g of gateways) g.close();
    for (const app of running.reverse()) {
      const code = await app.stop();
      if (code !== 0) out(`a process exited ${code}:\n${app.output().slice(-2000)}`);
    }
    await etcd?.close();
    const drop = new pg.Client({ connectionString: PG_URL });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS "${run}" WITH (FORCE)`);
    await drop.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSplit(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`split failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
