// The `cantons` command line: start, dev, migrate, dead-letters, smoke (npm run <command> -- …), each with its own --help.
//
// Exit codes: 0 done, 1 failed (bad configuration, a refused or failed action), 2 wrong invocation (usage error).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { migrateDown, migrateUp, migrationStatus } from '../db/migrator.ts';
import { bootstrap } from './bootstrap.ts';
import { formatDeadLetters } from './bus/index.ts';
import { CommandFailed, parseFlags, UsageError, type Flags, type Parsed } from './cli-flags.ts';
import { ConfigError, configKeys, kernelConfigSchema, parseConfig, readEnv, StartupError } from './config.ts';
import { createLogger } from './logger.ts';
import { connectModuleDatabase, moduleMigrations } from './module-database.ts';
import { allModules } from './registry.ts';
import { VERSION } from './version.ts';
import { exitOnSignals, listen } from './server.ts';

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** Accepted by every command. */
const COMMON: Flags = { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } };

interface Command {
  summary: string;
  usage: string;
  /** Flags besides --help and --version; smoke's depend on the module it names first. */
  flags: Flags | ((args: string[]) => Flags);
  /** Most positionals the command takes, beyond which the call is a usage error. */
  maxPositionals: number;
  run(parsed: Parsed): Promise<void>;
}

const withMigrations = allModules.filter((m) => m.migrations);
const withSmoke = allModules.filter((m) => m.smoke);
const rolesOf = (m?: { roles: object }) => Object.keys(m?.roles ?? {});

async function start(): Promise<void> {
  // Before any request runs: V8's allocation-site pretenuring moved request objects that a group commit keeps
  // for a millisecond straight into the old generation, where they die; a callback cost 55–60 µs of CPU with it
  // and 32–40 without (docs/decisions/0013-no-pretenuring.md).
  setFlagsFromString('--no-allocation-site-pretenuring');
  const kernel = bootstrap();
  const running = await listen(kernel);
  exitOnSignals(running, kernel.log);
  try {
    await kernel.start();
  } catch (err) {
    // A refusal the operator can act on (a port in use, a missing setting) is its one line; anything else, the stack.
    if (err instanceof StartupError) process.stderr.write(`${err.message}\n`);
    else kernel.log.fatal({ err }, 'start-up failed');
    await running.shutdown();
    process.exit(1);
  }
}

/**
 * `start` under `tsx watch`, restarted on every saved change. A command of its own, so that its --help and
 * --version answer and exit like every other's (`tsx watch` itself keeps watching after its child exits).
 */
function dev(): Promise<void> {
  let tsx: string;
  try {
    tsx = createRequire(import.meta.url).resolve('tsx/cli');
  } catch {
    throw new CommandFailed('dev: tsx is not installed (a devDependency: npm install); a build runs with start');
  }
  const child = spawn(process.execPath, [tsx, 'watch', '--clear-screen=false', fileURLToPath(import.meta.url), 'start'], { stdio: 'inherit' });
  // Ctrl-C reaches both (one process group); a SIGTERM sent to this process alone is passed on.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise(() => child.on('exit', (code) => process.exit(code ?? 1)));
}

/** `migrate down` drops tables and data: a person at a terminal confirms, a script says --yes. */
async function confirmDown(names: string[], yes: boolean): Promise<void> {
  if (yes) return;
  const what = `every migration of ${names.join(', ')} (drops their tables and data)`;
  if (!process.stdin.isTTY) throw new StartupError([`migrate down: not a terminal, so not asking; add --yes to revert ${what}`]);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // Ctrl-C and Ctrl-D answer no (readline would otherwise pause on Ctrl-C, or throw an AbortError on Ctrl-D).
  const abort = new AbortController();
  rl.on('SIGINT', () => abort.abort());
  const answer = await rl
    .question(`Revert ${what}? [y/N] `, { signal: abort.signal })
    .catch(() => '')
    .finally(() => rl.close());
  if (!/^y(es)?$/i.test(answer.trim())) throw new StartupError(['migrate down: not confirmed; nothing reverted']);
}

async function migrate({ positionals: [action = 'status', only], values }: Parsed): Promise<void> {
  if (!['up', 'down', 'status'].includes(action)) throw new UsageError(`migrate: unknown action "${action}"; use up, down or status`);
  const modules = withMigrations.filter((m) => !only || m.name === only);
  if (!modules.length) throw new UsageError(`migrate: no module "${only}" with migrations; valid: ${withMigrations.map((m) => m.name).join(', ')}`);
  if (action === 'down')
    await confirmDown(
      modules.map((m) => m.name),
      values.yes === true,
    );
  const env = readEnv(process.env, configKeys(kernelConfigSchema));
  const { kernel: config } = parseConfig({ kernel: kernelConfigSchema }, env);
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, undefined, config.LOG_FORMAT);
  for (const m of modules) {
    const mdb = await connectModuleDatabase(m.name, config, log);
    try {
      const migrations = moduleMigrations(m);
      if (action === 'up') out(`${m.name}: applied ${(await migrateUp(mdb, migrations)).join(', ') || 'nothing (up to date)'}`);
      if (action === 'down') out(`${m.name}: reverted ${(await migrateDown(mdb, migrations)).join(', ') || 'nothing'}`);
      if (action === 'status') {
        for (const s of await migrationStatus(mdb, migrations))
          out(`${m.name}  ${s.executedAt ? s.executedAt.toISOString() : 'pending                 '}  ${s.name}`);
      }
    } finally {
      await mdb.close();
    }
  }
}

async function deadLetters({ positionals: [action = 'list', id] }: Parsed): Promise<void> {
  if (!['list', 'replay', 'discard'].includes(action)) throw new UsageError(`dead-letters: unknown action "${action}"; use list, replay [id] or discard <id>`);
  if (action === 'list' && id !== undefined) throw new UsageError('dead-letters list: takes no id (replay does)');
  if (action === 'discard' && id === undefined) throw new UsageError('dead-letters discard: name the id to discard');
  const kernel = bootstrap({ env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } });
  await kernel.start();
  try {
    const bus = kernel.bus()!;
    if (action === 'list') return out(formatDeadLetters(await bus.deadLetters()));
    if (action === 'discard') {
      if (!(await bus.discard(id!))) throw new StartupError([`dead-letters discard: no dead letter with id ${id} (npm run dead-letters -- list shows them)`]);
      return out(`discarded ${id}`);
    }
    const result = await bus.replay(id);
    // A named id that matched nothing is a mistake (a typo, replayed already); an empty list is not.
    if (result.replayed + result.failed === 0) {
      if (id === undefined) return out('no dead letters to replay');
      throw new StartupError([`dead-letters replay: no dead letter with id ${id} (npm run dead-letters -- list shows them)`]);
    }
    out(`replayed ${result.replayed}, failed again ${result.failed}`);
    if (result.failed) process.exitCode = 1;
  } finally {
    await kernel.close();
  }
}

async function smoke({ positionals: [name, baseUrl = 'http://127.0.0.1:8080'], values }: Parsed): Promise<void> {
  const m = withSmoke.find((x) => x.name === name);
  if (!m) throw new UsageError(`smoke: name a module first: ${withSmoke.map((x) => x.name).join(', ')}`);
  const trim = (url: string) => url.replace(/\/+$/, '');
  const roleUrls = Object.fromEntries(
    rolesOf(m)
      .filter((r) => typeof values[r] === 'string')
      .map((r) => [r, trim(values[r] as string)]),
  );
  try {
    await m.smoke!(trim(baseUrl), out, roleUrls);
  } catch (err) {
    // A failed step is the smoke's answer, not a fault of this program: one line, no stack.
    throw new CommandFailed(`smoke ${m.name} failed: ${(err as Error).message.replace(/^smoke \S+: /, '')}`);
  }
  out(`smoke ${m.name}: all steps passed`);
}

const modulesLine = `Modules: ${allModules.map((m) => `${m.name} (${rolesOf(m).join(', ')})`).join('; ')}`;

const commands: Record<string, Command> = {
  start: {
    summary: 'serve every enabled module on http://HOST:PORT',
    usage: `Usage: npm start

Serves the modules and roles MODULES names (default: all of them, in this one process) on HOST:PORT,
until SIGTERM or SIGINT, which drain it. Configuration comes from the environment and .env; README.md
lists every variable (MODULES, PORT, DATABASE_URL, EVENT_BUS_URL, …).
${modulesLine}`,
    flags: {},
    maxPositionals: 0,
    run: start,
  },
  dev: {
    summary: 'start, restarted on every saved change (tsx watch; development only)',
    usage: `Usage: npm run dev

What npm start does, under tsx watch: the server restarts whenever a file it loaded is saved. Same
configuration as npm start; Ctrl-C stops it.`,
    flags: {},
    maxPositionals: 0,
    run: dev,
  },
  migrate: {
    summary: "apply, revert or list each module's migrations",
    usage: `Usage: npm run migrate -- up|down|status [module] [--yes]

  up       apply the pending migrations
  down     revert every migration (drops the tables and their data); asks first when run at a
           terminal, and refuses without --yes when not (scripts must say so)
  status   list every migration, applied (when) or pending (the default action)
  module   only this one (default: every module with migrations: ${withMigrations.map((m) => m.name).join(', ')})
  --yes    revert without asking

The database is the one start-up would use (DATA_DIR, DATABASE_URL, <MODULE>_DATABASE_URL).`,
    flags: { yes: { type: 'boolean' } },
    maxPositionals: 2,
    run: migrate,
  },
  'dead-letters': {
    summary: 'list, replay or discard events whose handlers failed every attempt',
    usage: `Usage: npm run dead-letters -- list | replay [id] | discard <id>

  list         one line per dead letter: id, time, consumer, topic, event, attempts, error (the default)
  replay [id]  run the handler again for dead letter <id>, or for every one; each that succeeds is
               deleted. Exits 1 when one fails again or when no dead letter has that id; with no id
               and none to replay it says so and exits 0.
  discard <id> delete dead letter <id> without running its handler. Exits 1 when there is none.
The console's Bus page (/console/bus) lists and acts on the same dead letters.

It runs the consumers MODULES enables, with the configuration start-up would use.`,
    flags: {},
    maxPositionals: 2,
    run: deadLetters,
  },
  smoke: {
    summary: 'exercise a running instance, step by step',
    usage: `Usage: npm run smoke -- <module> [base-url] [--<role> url …]

  module      one of: ${withSmoke.map((m) => m.name).join(', ')}
  base-url    where the instance answers (default http://127.0.0.1:8080)
  --<role>    the base URL of one of the module's roles when the roles run as separate processes,
              e.g. npm run smoke -- shop --products http://127.0.0.1:8082 --orders http://127.0.0.1:8081
              (the shop's smoke honours them; other modules' run through one URL: a gateway, see
              npm run split). Roles not given are at base-url.

Prints every step; exits 1 at the first that fails.
${modulesLine}`,
    // The role flags are the named module's (`smoke shop --products …`), so they follow from its name.
    flags: ([name]) => Object.fromEntries(rolesOf(withSmoke.find((m) => m.name === name)).map((r) => [r, { type: 'string' }])),
    maxPositionals: 2,
    run: smoke,
  },
};

const HELP = `cantons ${VERSION} — five service systems in one Node.js process

Usage: npm start | npm run <command> -- [arguments]    (compiled: node dist/kernel/cli.js <command> …)

${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`)
  .join('\n')}
  ${'bench'.padEnd(14)}load benchmarks (npm run bench -- --help)
  ${'docs'.padEnd(14)}regenerate the generated docs (npm run docs -- --help)

Every command takes --help (-h) for its own usage, and --version (-v).
${modulesLine}
Configuration comes from the environment and .env; README.md lists every variable.`;

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return out(HELP);
  if (name === '--version' || name === '-v') return out(VERSION);
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined; // not `toString` and the like
  if (!command) throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(commands).join(', ')} (--help says more)`);
  const flags = typeof command.flags === 'function' ? command.flags(args) : command.flags;
  const parsed = parseFlags(name, args, { ...flags, ...COMMON }, command.maxPositionals);
  if (parsed.values.help) return out(command.usage);
  if (parsed.values.version) return out(VERSION);
  return command.run(parsed);
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof StartupError || err instanceof CommandFailed) {
    process.stderr.write(`${err.message}\n`);
  } else process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
