// The `cantons` command line: start, migrate, dead-letters, smoke (npm run <command> -- …).
import { migrateDown, migrateUp, migrationStatus } from '../db/migrator.ts';
import { bootstrap } from './bootstrap.ts';
import { formatDeadLetters } from './bus/index.ts';
import { ConfigError, configKeys, kernelConfigSchema, parseConfig, readEnv } from './config.ts';
import { createLogger } from './logger.ts';
import { connectModuleDatabase, moduleMigrations } from './module-database.ts';
import { allModules } from './registry.ts';
import { StartupError } from './role-plan.ts';
import { exitOnSignals, listen } from './server.ts';

const HELP = `cantons — five service systems in one Node.js process

Usage:
  npm start                                   serve every enabled module on http://HOST:PORT
  npm run migrate -- up|down|status [module]  apply, revert (all) or list a module's migrations
  npm run dead-letters -- list                list events whose handlers failed every attempt
  npm run dead-letters -- replay [id]         run the handler again for one (or every) dead letter
  npm run smoke -- <module> [base-url]        exercise a running instance (default http://127.0.0.1:8080)
  npm run bench -- <scenario>                 load benchmarks (npm run bench -- --help)

Modules: ${allModules.map((m) => `${m.name} (${Object.keys(m.roles).join(', ')})`).join('; ')}
Configuration comes from the environment and .env; README.md lists every variable.`;

const out = (line: string): void => void process.stdout.write(`${line}\n`);

async function start(): Promise<void> {
  const kernel = bootstrap();
  const running = await listen(kernel);
  exitOnSignals(running, kernel.log);
  kernel.log.info({ url: `http://${kernel.config.HOST}:${running.port}` }, 'listening');
  try {
    await kernel.start();
  } catch (err) {
    kernel.log.fatal({ err }, 'start-up failed');
    await running.shutdown();
    process.exit(1);
  }
}

async function migrate(action = 'status', only?: string): Promise<void> {
  if (!['up', 'down', 'status'].includes(action)) throw new StartupError([`migrate: unknown action "${action}"; use up, down or status`]);
  const env = readEnv(process.env, configKeys(kernelConfigSchema));
  const { kernel: config } = parseConfig({ kernel: kernelConfigSchema }, env);
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const modules = allModules.filter((m) => m.migrations && (!only || m.name === only));
  if (only && !modules.length) {
    throw new StartupError([`migrate: no module "${only}" with migrations; valid: ${allModules.filter((m) => m.migrations).map((m) => m.name).join(', ')}`]);
  }
  for (const m of modules) {
    const mdb = await connectModuleDatabase(m.name, config, log);
    try {
      const migrations = moduleMigrations(m);
      if (action === 'up') out(`${m.name}: applied ${(await migrateUp(mdb, migrations)).join(', ') || 'nothing (up to date)'}`);
      if (action === 'down') out(`${m.name}: reverted ${(await migrateDown(mdb, migrations)).join(', ') || 'nothing'}`);
      if (action === 'status') {
        for (const s of await migrationStatus(mdb, migrations)) out(`${m.name}  ${s.executedAt ? s.executedAt.toISOString() : 'pending                 '}  ${s.name}`);
      }
    } finally {
      await mdb.close();
    }
  }
}

async function deadLetters(action = 'list', id?: string): Promise<void> {
  if (!['list', 'replay'].includes(action)) throw new StartupError([`dead-letters: unknown action "${action}"; use list or replay [id]`]);
  const kernel = bootstrap({ env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } });
  await kernel.start();
  try {
    const bus = kernel.bus()!;
    if (action === 'list') {
      const letters = await bus.deadLetters();
      out(formatDeadLetters(letters));
    } else {
      const result = await bus.replay(id);
      out(`replayed ${result.replayed}, failed again ${result.failed}`);
      if (result.failed) process.exitCode = 1;
    }
  } finally {
    await kernel.close();
  }
}

async function smoke(name?: string, baseUrl = 'http://127.0.0.1:8080'): Promise<void> {
  const withSmoke = allModules.filter((m) => m.smoke);
  const m = withSmoke.find((x) => x.name === name);
  if (!m) throw new StartupError([`smoke: name a module: ${withSmoke.map((x) => x.name).join(', ')}`]);
  await m.smoke!(baseUrl.replace(/\/+$/, ''), out);
  out(`smoke ${m.name}: all steps passed`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help' || args.includes('--help')) return out(HELP);
  switch (command) {
    case 'start':
      return start();
    case 'migrate':
      return migrate(args[0], args[1]);
    case 'dead-letters':
      return deadLetters(args[0], args[1]);
    case 'smoke':
      return smoke(args[0], args[1]);
    default:
      throw new StartupError([`unknown command "${command}"; run with --help`]);
  }
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof ConfigError || err instanceof StartupError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
