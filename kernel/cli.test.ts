// The command line as a user meets it, in real processes: help per command, --version, strict flags (exit 2),
// start-up refusing bad configuration, dead-letter replay's exit code, and `migrate down` asking first.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERRORS_DOC, ENV_EXAMPLE, README } from './generated-docs.ts';
import { ROOT, tempDir } from './testing/index.ts';

const CLI = join(ROOT, 'kernel/cli.ts');

function run(file: string, args: string[], env: Record<string, string> = {}) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATA_DIR: tempDir(), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: res.status, out: res.stdout, err: res.stderr };
}
const cli = (args: string[], env: Record<string, string> = {}) => run(CLI, args, env);

/** `cantons <args>` with a real terminal as stdin (util-linux `script`), typing `answer` once `prompt` shows. */
function atTerminal(args: string[], env: Record<string, string>, prompt: RegExp, answer: string): Promise<{ code: number | null; out: string }> {
  const command = [process.execPath, '--import', 'tsx', CLI, ...args].map((a) => `'${a}'`).join(' ');
  const proc = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
  let out = '';
  let typed = false;
  const read = (d: Buffer) => {
    out += d;
    if (!typed && prompt.test(out)) {
      proc.stdin.write(`${answer}\n`);
      typed = true;
    }
  };
  proc.stdout.on('data', read);
  proc.stderr.on('data', read);
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, out })));
}
const hasScript = spawnSync('script', ['--version']).status === 0;

describe('cli', () => {
  it('prints the overall help: every command and module', () => {
    const { code, out } = cli(['--help']);
    assert.equal(code, 0);
    for (const command of ['start', 'dev', 'migrate', 'dead-letters', 'smoke']) assert.match(out, new RegExp(`^  ${command} `, 'm'));
    assert.match(out, /events \(storage, receiver\)/);
  });

  it('prints one usage per command, and does nothing else', () => {
    const dataDir = tempDir();
    const migrate = cli(['migrate', '--help'], { DATA_DIR: dataDir });
    assert.equal(migrate.code, 0);
    assert.match(migrate.out, /^Usage: npm run migrate -- up\|down\|status \[module\] \[--yes\]/);
    assert.doesNotMatch(migrate.out, /dead-letters|smoke/);
    // `npm start -- --help` neither listens nor opens a database.
    const start = cli(['start', '-h'], { DATA_DIR: dataDir, PORT: 'not-even-a-port' });
    assert.equal(start.code, 0, start.err);
    assert.match(start.out, /^Usage: npm start/);
    assert.match(cli(['smoke', 'shop', '--help']).out, /--<role>/);
    assert.deepEqual(readdirSync(dataDir), []);
  });

  it('prints the version of package.json', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.deepEqual(cli(['--version']), { code: 0, out: `${version}\n`, err: '' });
    assert.equal(cli(['migrate', '-v']).out, `${version}\n`);
  });

  it('every other command answers --help and --version and exits: dev, docs, build, bench', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const commands: Array<[string, string[]]> = [
      [CLI, ['dev']],
      [join(ROOT, 'kernel/generated-docs.ts'), []],
      [join(ROOT, 'kernel/build.ts'), []],
      [join(ROOT, 'bench/cli.ts'), []],
      [join(ROOT, 'bench/cli.ts'), ['cache']],
    ];
    for (const [file, args] of commands) {
      const at = [file.slice(ROOT.length + 1), ...args].join(' ');
      // run() times out at 60 s: `dev` under `tsx watch` would never exit by itself.
      assert.deepEqual(run(file, [...args, '--version']), { code: 0, out: `${version}\n`, err: '' }, at);
      const help = run(file, [...args, '--help']);
      assert.equal(help.code, 0, `${at}: ${help.err}`);
      assert.match(help.out, /npm run/, at);
    }
  });

  it('a failed smoke says which step failed in one line, no stack (exit 1)', () => {
    const { code, err } = cli(['smoke', 'shop', 'http://127.0.0.1:1']);
    assert.equal(code, 1);
    assert.equal(err, 'smoke shop failed: POST /products: no answer from http://127.0.0.1:1 (bad port)\n');
  });

  it('refuses an unknown flag with one line naming the valid ones (exit 2), doing nothing', () => {
    const dataDir = tempDir();
    const res = cli(['migrate', 'up', '--bogus', '1'], { DATA_DIR: dataDir });
    assert.equal(res.code, 2);
    assert.equal(res.err, "migrate: Unknown option '--bogus'; valid flags: --yes, --help (-h), --version (-v)\n");
    assert.deepEqual(readdirSync(dataDir), []);
    // smoke's flags are the named module's roles.
    assert.match(cli(['smoke', 'shop', '--storage', 'http://x']).err, /valid flags: --products <value>, --orders <value>, --help/);
    assert.match(cli(['smoke', 'shop', '--products']).err, /^smoke: Option '--products <value>' argument missing/);
    assert.equal(cli(['migrate', 'up', 'events', 'extra']).code, 2);
    assert.equal(cli(['migrate', 'sideways']).code, 2);
  });

  it('refuses an unknown command, listing the commands (exit 2)', () => {
    for (const name of ['serve', 'toString']) {
      const { code, err } = cli([name]);
      assert.equal(code, 2);
      assert.equal(err, `unknown command "${name}"; commands: start, dev, migrate, dead-letters, smoke (--help says more)\n`);
    }
  });

  it('docs --help explains and regenerates nothing; an unknown flag is refused', () => {
    const docs = join(ROOT, 'kernel/generated-docs.ts');
    const mtimes = () => [ERRORS_DOC, README, ENV_EXAMPLE].map((f) => statSync(f).mtimeMs);
    const before = mtimes();
    const help = run(docs, ['--help']);
    assert.equal(help.code, 0, help.err);
    assert.match(help.out, /^Usage: npm run docs\n\nRegenerates/);
    const bogus = run(docs, ['--bogus']);
    assert.equal(bogus.code, 2);
    assert.equal(bogus.err, "docs: Unknown option '--bogus'; valid flags: --help (-h), --version (-v)\n");
    assert.deepEqual(mtimes(), before);
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

  it('lists dead letters; replaying an id that matches none exits 1', () => {
    const dataDir = tempDir();
    const list = cli(['dead-letters', 'list'], { DATA_DIR: dataDir });
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /no dead letters/);
    const all = cli(['dead-letters', 'replay'], { DATA_DIR: dataDir });
    assert.deepEqual([all.code, all.out], [0, 'no dead letters to replay\n'], all.err);
    const one = cli(['dead-letters', 'replay', '999'], { DATA_DIR: dataDir });
    assert.equal(one.code, 1);
    assert.equal(one.err, 'dead-letters replay: no dead letter with id 999 (npm run dead-letters -- list shows them)\n');
  });

  it('migrates up, down (only with --yes when not at a terminal) and reports status', () => {
    const dataDir = tempDir();
    const status = () => cli(['migrate', 'status', 'events'], { DATA_DIR: dataDir }).out;
    assert.equal(cli(['migrate', 'up', 'events'], { DATA_DIR: dataDir }).code, 0);
    assert.match(status(), /events {2}\d{4}-.* {2}001_init/);
    const refused = cli(['migrate', 'down', 'events'], { DATA_DIR: dataDir });
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^migrate down: not a terminal, so not asking; add --yes to revert every migration of events/);
    assert.match(status(), /events {2}\d{4}-.* {2}001_init/);
    const down = cli(['migrate', 'down', 'events', '--yes'], { DATA_DIR: dataDir });
    assert.equal(down.code, 0, down.err);
    assert.match(down.out, /reverted .*001_init/);
    assert.match(status(), /pending +001_init/);
  });

  it('migrate down at a terminal asks, and reverts only on yes (no, Ctrl-D: nothing reverted)', {
    skip: hasScript ? undefined : 'script (util-linux) is not installed',
  }, async () => {
    const dataDir = tempDir();
    const status = () => cli(['migrate', 'status', 'events'], { DATA_DIR: dataDir }).out;
    assert.equal(cli(['migrate', 'up', 'events'], { DATA_DIR: dataDir }).code, 0);
    const prompt = /Revert every migration of events \(drops their tables and data\)\? \[y\/N\]/;
    const no = await atTerminal(['migrate', 'down', 'events'], { DATA_DIR: dataDir }, prompt, 'n');
    assert.equal(no.code, 1, no.out);
    assert.match(no.out, /not confirmed; nothing reverted/);
    // Ctrl-D is a no too, not a stack trace.
    const eof = await atTerminal(['migrate', 'down', 'events'], { DATA_DIR: dataDir }, prompt, '\u0004');
    assert.equal(eof.code, 1, eof.out);
    assert.match(eof.out, /\? \[y\/N\] .*\s*migrate down: not confirmed; nothing reverted\s*$/);
    assert.match(status(), /events {2}\d{4}-.* {2}001_init/);
    const yes = await atTerminal(['migrate', 'down', 'events'], { DATA_DIR: dataDir }, prompt, 'y');
    assert.equal(yes.code, 0, yes.out);
    assert.match(yes.out, /events: reverted 001_init/);
    assert.match(status(), /pending +001_init/);
  });
});
