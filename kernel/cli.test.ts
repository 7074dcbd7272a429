// The command line as a user meets it: --help, and start-up refusing bad configuration with every problem listed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, tempDir } from './testing/index.ts';

function cli(args: string[], env: Record<string, string> = {}) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'kernel/cli.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATA_DIR: tempDir(), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

describe('cli', () => {
  it('prints help listing the commands and modules', () => {
    const { code, out } = cli(['--help']);
    assert.equal(code, 0);
    assert.match(out, /npm run migrate -- up\|down\|status/);
    assert.match(out, /events \(storage, receiver\)/);
  });

  it('exits 1 listing every configuration problem at once', () => {
    const { code, err } = cli(['start'], { PORT: 'eighty', LOG_LEVEL: 'loud', SHOP_PRODUCTS_STORE: 'redis' });
    assert.equal(code, 1);
    assert.match(err, /PORT/);
    assert.match(err, /LOG_LEVEL/);
    assert.match(err, /REDIS_URL: required when SHOP_PRODUCTS_STORE=redis/);
  });

  it('exits 1 on an unknown module, naming the valid ones', () => {
    const { code, err } = cli(['start'], { MODULES: 'events,shoop' });
    assert.equal(code, 1);
    assert.match(err, /unknown module or role "shoop"/);
    assert.match(err, /events\.receiver/);
  });

  it('lists and replays dead letters', () => {
    const dataDir = tempDir();
    const list = cli(['dead-letters', 'list'], { DATA_DIR: dataDir });
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /no dead letters/);
    const replay = cli(['dead-letters', 'replay'], { DATA_DIR: dataDir });
    assert.equal(replay.code, 0, replay.err);
    assert.match(replay.out, /replayed 0, failed again 0/);
  });

  it('migrates down and up, and reports status', () => {
    const dataDir = tempDir();
    assert.equal(cli(['migrate', 'up', 'events'], { DATA_DIR: dataDir }).code, 0);
    const status = cli(['migrate', 'status', 'events'], { DATA_DIR: dataDir });
    assert.match(status.out, /events {2}\d{4}-.* {2}001_init/);
    const down = cli(['migrate', 'down', 'events'], { DATA_DIR: dataDir });
    assert.equal(down.code, 0);
    assert.match(down.out, /reverted .*001_init/);
    assert.match(cli(['migrate', 'status', 'events'], { DATA_DIR: dataDir }).out, /pending +001_init/);
    assert.equal(cli(['migrate', 'sideways']).code, 1);
  });
});
