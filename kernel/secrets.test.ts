// Secrets never leave the process: the real CLI against backing services that refuse it (a bad Postgres
// user, a Redis that refuses the password, a role URL with user:password), with every log line at debug and
// every response body searched for the secret. Redis refusing AUTH is also 503, never 500.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, gate, ROOT, tempDir } from './testing/index.ts';

interface Run {
  output: string;
  bodies: string[];
  statuses: number[];
}

/** `kernel/cli.ts start` with `env`; runs `requests` once it listens (or until it exits), then SIGTERM. */
async function runCli(env: Record<string, string>, requests: Array<[string, string, unknown?]>, opts: { waitMs?: number } = {}): Promise<Run> {
  const port = await freePort();
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'kernel/cli.ts'), 'start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'debug', DATA_DIR: tempDir(), ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (
    proc.exitCode === null &&
    Date.now() < deadline &&
    !(await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, opts.waitMs ?? 1000));
  const bodies: string[] = [];
  const statuses: number[] = [];
  for (const [method, path, body] of requests) {
    if (proc.exitCode !== null) break;
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch(() => undefined);
    if (!res) continue;
    statuses.push(res.status);
    bodies.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
  }
  if (proc.exitCode === null) proc.kill('SIGTERM');
  await exited;
  return { output, bodies, statuses };
}

function assertNoSecret(run: Run, ...secrets: string[]) {
  const all = [run.output, ...run.bodies].join('\n');
  for (const secret of secrets) {
    const at = all.indexOf(secret);
    assert.equal(at, -1, `"${secret}" leaked: …${all.slice(Math.max(0, at - 300), at + 100)}…`);
  }
}

const product = { id: 'p1', title: 'P', passenger_capacity: 1, maximum_speed: 1, in_stock: 1 };

describe('secrets in logs and responses', await gate('postgres', 'redis'), () => {
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  before(async () => {
    redisPort = await freePort();
    const dir = tempDir();
    redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--requirepass', 'the-right-password', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    const started = Date.now();
    while (
      !(await new Promise<boolean>((resolve) => {
        const s = connect(redisPort, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }))
    ) {
      if (Date.now() - started > 5000) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(() => void redis?.kill());

  it('a Postgres that refuses the user, and one that is not there', async () => {
    const dead = await freePort();
    for (const [url, secret] of [
      ['postgres://nosuchuser:pg-secret-refused-1@127.0.0.1:5432/nosuchdb', 'pg-secret-refused-1'],
      [`postgres://postgres:pg-secret-dead-2@127.0.0.1:${dead}/x`, 'pg-secret-dead-2'],
    ]) {
      const run = await runCli(
        { MODULES: 'events', DATABASE_URL: url, DB_CONNECT_ATTEMPTS: '2', DB_CONNECT_BASE_MS: '50' },
        [
          ['GET', '/readyz'],
          ['GET', '/events/stats'],
        ],
        { waitMs: 0 },
      );
      assert.match(run.output, /start-up failed|connect failed/, run.output);
      assertNoSecret(run, secret);
    }
  });

  it('a Redis products store that refuses the password: 503 SERVICE_UNAVAILABLE, the password nowhere', async () => {
    const run = await runCli(
      {
        MODULES: 'shop',
        SHOP_PRODUCTS_STORE: 'redis',
        REDIS_URL: `redis://:redis-secret-wrong-3@127.0.0.1:${redisPort}`,
        SHOP_REDIS_PREFIX: `secrets-${process.pid}:`,
      },
      [
        ['GET', '/products'],
        ['GET', '/products/p1'],
        ['POST', '/products', product],
        ['GET', '/readyz'],
      ],
    );
    assert.match(run.output, /WRONGPASS/, 'the premise: Redis refused the password');
    assertNoSecret(run, 'redis-secret-wrong-3');
    const api = run.statuses.slice(0, 3);
    assert.ok(api.length === 3 && api.every((s) => s === 503), `statuses ${run.statuses} ${run.bodies.join('\n')}`);
    assert.ok(
      run.bodies.slice(0, 3).every((b) => /"error":"SERVICE_UNAVAILABLE"/.test(b)),
      run.bodies.join('\n'),
    );
  });

  it('an event bus that refuses the password', async () => {
    const run = await runCli(
      { MODULES: 'events', EVENT_BUS_URL: `redis://:bus-secret-wrong-4@127.0.0.1:${redisPort}`, BUS_STREAM_PREFIX: `secrets-${process.pid}` },
      [
        ['GET', '/events/stats'],
        ['GET', '/readyz'],
      ],
    );
    assert.match(run.output, /WRONGPASS|NOAUTH/, 'the premise: Redis refused the password');
    assertNoSecret(run, 'bus-secret-wrong-4');
  });

  it('a role URL with user:password: never logged, and the public 503 names the role, not its address', async () => {
    const dead = await freePort();
    const run = await runCli(
      {
        MODULES: 'shop.orders',
        SHOP_PRODUCTS_URL: `http://admin:role-secret-5@127.0.0.1:${dead}`,
        EVENT_BUS_URL: 'redis://127.0.0.1:6379',
        BUS_STREAM_PREFIX: `secrets-${process.pid}`,
        RPC_RETRIES: '0',
      },
      [['POST', '/orders', { order_details: [{ product_id: 'p1', price: '1.00', quantity: 1 }] }]],
    );
    assert.match(run.output, /modules started/, run.output);
    assert.equal(run.statuses[0], 503, run.bodies.join('\n'));
    assert.match(run.bodies[0], /ROLE_UNAVAILABLE/);
    assert.match(run.bodies[0], /shop\.products/);
    assertNoSecret(run, 'role-secret-5');
    assert.doesNotMatch(run.bodies[0], new RegExp(`${dead}|admin|127\\.0\\.0\\.1`));
  });
});

describe('secrets with an etcd that refuses the password', await gate('etcd'), () => {
  it('a cache whose ETCD_PASSWORD etcd refuses: 503s, the password nowhere', async () => {
    const { startEtcd } = await import('./testing/etcd.ts');
    const etcd = await startEtcd({ auth: { users: [{ name: 'cache', password: 'the-right-etcd-password', prefix: 'secrets/' }] } });
    try {
      const run = await runCli(
        { MODULES: 'cache', ETCD_URL: etcd.url, ETCD_USERNAME: 'cache', ETCD_PASSWORD: 'etcd-secret-wrong-6', CACHE_ETCD_TIMEOUT_MS: '500' },
        [
          ['GET', '/config/a?use_cache=false'],
          ['PUT', '/config/a', 1],
          ['GET', '/readyz'],
        ],
      );
      assert.match(run.output, /authentication failed|invalid username or password/i, 'the premise: etcd refused the password');
      assert.ok(
        run.statuses.slice(0, 2).every((s) => s === 503),
        `${run.statuses} ${run.bodies.join('\n')}`,
      );
      assertNoSecret(run, 'etcd-secret-wrong-6');
    } finally {
      await etcd.close();
    }
  });
});
