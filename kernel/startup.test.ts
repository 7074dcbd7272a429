// `npm start` as an operator meets it, in real processes: the start-up line (where the API and its docs are,
// which roles run here and where the others are), access lines, pretty logs, and the start-up refusals a
// person must understand at a glance (a port in use, PORT=, an unknown module): one line, exit 1, no stack.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gate, REDIS_URL, ROOT, spawnApp, tempDir } from './testing/index.ts';

/** `kernel/cli.ts start` expected to give up: its exit code and output, or a timeout if it serves instead. */
function refusedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'kernel/cli.ts'), 'start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', DATA_DIR: tempDir(), GRPC_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

const needsRedis = await gate('redis');

describe('start-up, as an operator sees it', () => {
  it('names the API, its docs, the roles here and the remote ones (credentials redacted); one access line per request', needsRedis, async () => {
    const app = await spawnApp({
      MODULES: 'shop.orders',
      SHOP_PRODUCTS_URL: 'http://robot:hunter2-secret@127.0.0.1:1',
      EVENT_BUS_URL: REDIS_URL,
      BUS_STREAM_PREFIX: `startup-test-${process.pid}`,
      LOG_LEVEL: 'info',
    });
    let lines: Array<Record<string, any>> = [];
    try {
      const res = await fetch(`${app.url}/orders?limit=1`, { headers: { 'x-request-id': 'startup-test-1' } });
      assert.equal(res.status, 200);
      await res.text();
    } finally {
      assert.equal(await app.stop(), 0);
      lines = app
        .output()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    }
    const started = lines.find((l) => l.msg === 'modules started');
    assert.deepEqual(
      { api: started?.api, docs: started?.docs, roles: started?.roles, remote: started?.remote, level: started?.level },
      { api: app.url, docs: `${app.url}/docs`, roles: ['shop.orders'], remote: { 'shop.products': 'http://robot:***@127.0.0.1:1/' }, level: 30 },
    );
    const access = lines.filter((l) => l.msg === 'request');
    assert.deepEqual(
      access.map((l) => [l.reqId, l.method, l.route, l.status]),
      [['startup-test-1', 'GET', '/orders', 200]],
      'the /readyz polls are debug',
    );
    assert.ok(!app.output().includes('hunter2-secret'));
  });

  it('writes pretty lines with LOG_FORMAT=pretty, the last ones (shutdown complete) included', async () => {
    const app = await spawnApp({ MODULES: 'cache', LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    await (await fetch(`${app.url}/openapi.json`)).text();
    assert.equal(await app.stop(), 0);
    const out = app.output();
    assert.match(out, new RegExp(`INFO: modules started\\n {4}api: "${app.url}"\\n {4}docs: "${app.url}/docs"`));
    assert.match(out, /INFO: request\n {4}reqId: "[0-9a-f-]{36}"\n {4}method: "GET"\n {4}route: "\/openapi.json"\n {4}status: 200/);
    assert.match(out, /INFO: shutdown complete\n {4}ok: true\n$/);
  });

  it('refuses a port in use in one line that names PORT', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const { code, output } = await refusedStart({ MODULES: 'cache', PORT: String(port) });
      assert.equal(code, 1);
      assert.equal(output, `port ${port} is in use (HOST 127.0.0.1); set PORT to another port\n`);
    } finally {
      taken.close();
    }
  });

  it('refuses a gRPC port in use in one line that names GRPC_PORT', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const { code, output } = await refusedStart({ MODULES: 'crowdfund', PORT: '0', GRPC_PORT: String(port), LOG_LEVEL: 'warn' });
      assert.equal(code, 1);
      assert.equal(output, `port ${port} is in use (GRPC_HOST 127.0.0.1); set GRPC_PORT to another port\n`);
    } finally {
      taken.close();
    }
  });

  it('refuses PORT= (empty) instead of listening on a random port', async () => {
    const { code, output } = await refusedStart({ MODULES: 'cache', PORT: '' });
    assert.equal(code, 1);
    assert.equal(output, 'invalid configuration:\n  - PORT: empty; give a number or leave it unset (default 8080)\n');
  });

  it('refuses an unknown module, naming the modules and roles that exist', async () => {
    const { code, output } = await refusedStart({ MODULES: 'cache,shops' });
    assert.equal(code, 1);
    assert.match(output, /^MODULES: unknown module or role "shops"; valid names: [\w., ]+\n$/, 'one line, no stack trace');
    for (const name of ['shop', 'cache', 'events', 'benchmark', 'crowdfund', 'shop.orders'])
      assert.match(output, new RegExp(`[ ,]${name.replace('.', '\\.')}(,|\n)`));
  });
});
