// npm run build: a server that runs with plain node and the production dependencies alone; npm start: one process a signal stops.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assetFiles, build } from './build.ts';
import { freePort, spawnApp, tempDir } from './spawn-app.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** node_modules as `npm ci --omit=dev` leaves it: a link to every installed package the lock does not mark dev. */
function linkProductionModules(to: string): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const omitted: string[] = [];
  for (const [key, entry] of Object.entries(lock.packages)) {
    const name = key.startsWith('node_modules/') ? key.slice('node_modules/'.length) : '';
    if (!name || name.includes('/node_modules/') || !existsSync(join(ROOT, key))) continue;
    if (entry.dev) {
      omitted.push(name);
      continue;
    }
    mkdirSync(dirname(join(to, name)), { recursive: true });
    symlinkSync(join(ROOT, key), join(to, name), 'dir');
  }
  return omitted;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

describe('production build', () => {
  let dir: string;
  let entry: string;
  let omitted: string[];
  before(async () => {
    dir = tempDir('cantons-build-');
    await build(join(dir, 'dist'));
    omitted = linkProductionModules(join(dir, 'node_modules'));
    entry = join(dir, 'dist/kernel/cli.js');
  });

  it('compiles every import to .js and copies the .proto files', () => {
    assert.ok(omitted.includes('tsx') && omitted.includes('typescript'), `dev packages left out: ${omitted.join(', ')}`);
    const tsImports = jsFiles(join(dir, 'dist')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(?:from |import\()\s*['"](\.{1,2}\/[^'"]+\.ts)['"]/g)].map((m) => `${file}: ${m[1]}`),
    );
    assert.deepEqual(tsImports, []);
    assert.ok(assetFiles().includes('modules/crowdfund/threads.proto'));
    for (const asset of assetFiles()) assert.ok(existsSync(join(dir, 'dist', asset)), `${asset} not copied`);
    assert.ok(!existsSync(join(dir, 'dist/kernel/testing')), 'test support is not built');
  });

  it('bundles the entry: one file, no relative import left, no __dirname of a library that reads its own files', () => {
    const bundle = readFileSync(entry, 'utf8');
    assert.deepEqual(
      [...bundle.matchAll(/(?:from |import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]),
      [],
    );
    assert.match(bundle, /node_modules\/kysely\//, 'kysely is inside the bundle');
    assert.doesNotMatch(bundle, /__dirname|__filename/, 'a bundled library reads files beside itself: make it external');
    // What kernel/lazy-deps.test.ts checks from source holds in the bundle too: none of them is imported up front.
    for (const lazy of ['etcd3', 'ioredis', 'pg', 'nodemailer']) assert.doesNotMatch(bundle, new RegExp(`^import .* from "${lazy}";$`, 'm'), lazy);
  });

  it('node dist/kernel/cli.js start serves every module without tsx (the SQLite writer thread too); SIGTERM drains it to exit 0', async () => {
    const app = await spawnApp({ LOG_LEVEL: 'info', EVENTS_SQLITE_WRITER: 'thread' }, { entry, cwd: dir });
    try {
      const res = await fetch(`${app.url}/events/snow-reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ device_id: 'd1', resort_id: 'whistler', depth: 42, timestamp: '2026-01-05T08:00:00Z' }),
      });
      assert.equal(res.status, 201, await res.text());
      assert.equal((await fetch(`${app.url}/docs/`)).status, 200);
      assert.equal((await fetch(`${app.url}/docs/swagger-ui.css`)).status, 200);
      assert.match(app.output(), /"msg":"gRPC listening"/);
      assert.doesNotMatch(app.output(), /tsx|ERR_|"level":50/);
    } finally {
      assert.equal(await app.stop(), 0, app.output());
    }
    assert.match(app.output(), /"msg":"shutdown complete"/);
  });
});

describe('npm start', () => {
  it('runs one server process: SIGTERM to npm reaches it, it drains and exits, nothing is left listening', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), GRPC_PORT: '0', DATA_DIR: tempDir(), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout!.on('data', (d) => (output += d));
    npm.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    while (
      !(await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      assert.ok(npm.exitCode === null && Date.now() < deadline, `npm start not ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // npm → node: the script execs node, so no sh (nor tsx's own launcher) stands between them.
    const children = readFileSync(`/proc/${npm.pid}/task/${npm.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    assert.equal(children.length, 1, `npm's children: ${children}`);
    const server = children[0];
    assert.match(readFileSync(`/proc/${server}/cmdline`, 'utf8').replaceAll('\0', ' '), /^\S*node --import tsx kernel\/cli\.ts start/);

    npm.kill('SIGTERM');
    const code = await exited;
    assert.match(output, /"signal":"SIGTERM","msg":"shutting down"/);
    assert.match(output, /"msg":"shutdown complete"/);
    assert.equal(
      await fetch(`${url}/healthz`).then(
        () => 'answered',
        () => 'refused',
      ),
      'refused',
    );
    assert.throws(() => process.kill(server, 0), { code: 'ESRCH' }, 'the server outlived npm');
    assert.ok(code === 0 || code === 143 || code === null, `npm exited ${code}`);
  });
});
