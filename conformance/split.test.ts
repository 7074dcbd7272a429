// `npm run split -- --serve`: one gateway line, every module's paths behind it, and on SIGTERM nothing left —
// no process, no Redis key, no database, no run folder (certificates, data, reports).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { gate, PG_URL, REDIS_URL } from '../kernel/testing/index.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const childrenOf = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
};

it(
  'split --serve --topology 4 serves every module through one gateway, and SIGTERM removes everything it created',
  await gate('postgres', 'redis', 'etcd'),
  async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'conformance/split.ts', '--serve', '--topology', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const gateway = await new Promise<string>((resolve, reject) => {
      proc.stdout.on('data', (d) => {
        output += d;
        const url = /^gateway (http:\/\/127\.0\.0\.1:\d+)$/m.exec(output)?.[1];
        if (url) resolve(url);
      });
      void exited.then((code) => reject(new Error(`split exited ${code} before serving:\n${output}`)));
    });
    const run = /^run (cantons_t4_\w+):/m.exec(output)?.[1];
    assert.ok(run, output);

    // One of each module's public paths through the gateway, and a write that leaves keys in Redis and rows in Postgres.
    for (const path of ['/events/stats', '/products/none', '/orders?limit=1', '/config', '/projects', '/api/v1/health', '/target/health'])
      assert.ok([200, 404].includes((await fetch(`${gateway}${path}`)).status), path);
    // The gateway's console page: every process, ready, each linking to its own console.
    const index = await (await fetch(`${gateway}/console`)).text();
    const consoles = [...index.matchAll(/<a href="(http:\/\/127\.0\.0\.1:\d+)\/console">/g)].map((m) => m[1]);
    assert.equal(consoles.length, 11, index);
    assert.equal((index.match(/<td>ready<\/td>/g) ?? []).length, 11, index);
    for (const url of consoles) assert.equal((await fetch(`${url}/console`)).status, 200, `${url}/console`);

    const product = { id: 'serve_test', title: 'Serve', passenger_capacity: 1, maximum_speed: 1, in_stock: 2 };
    const created = await fetch(`${gateway}/products`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(product) });
    assert.equal(created.status, 200);
    const ordered = await fetch(`${gateway}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ order_details: [{ product_id: 'serve_test', price: '1.00', quantity: 1 }] }),
    });
    assert.equal(ordered.status, 200);

    const redis = new Redis(REDIS_URL);
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const keys = () => redis.keys(`${run}*`);
      const databases = async () => (await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${run}%`])).rows;
      assert.ok((await keys()).length > 0, 'the run wrote Redis keys');
      assert.equal((await databases()).length, 1, 'the run has its database');
      const pids = childrenOf(proc.pid!);
      assert.ok(pids.length >= 12, `${pids.length} processes: 11 services and etcd`);

      proc.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      assert.match(output, /SIGTERM: stopping every process/);
      assert.deepEqual(pids.filter(alive), [], 'every process of the run has exited');
      assert.deepEqual(await keys(), [], 'no Redis key of the run is left');
      assert.deepEqual(await databases(), [], 'no database of the run is left');
      assert.equal(existsSync(join(tmpdir(), run)), false, 'no run folder (certificates, data, reports) is left');
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      redis.disconnect();
      await admin.end();
    }
  },
);
