// `npm run conformance`: one behaviour suite against each topology through its public entry; prints the
// matrix (module × topology), writes it as JSON and HTML, exits 1 on any failure and 2 on a wrong command line.
import { join } from 'node:path';
import { parseFlags, UsageError } from '../kernel/cli-flags.ts';
import { VERSION } from '../kernel/version.ts';
import { renderText, allPassed, writeResults } from './report.ts';
import { runMatrix } from './run.ts';
import { MODULE_NAMES, TOPOLOGIES } from './topologies.ts';

export const USAGE = `npm run conformance [-- options]

Runs the same behaviour checks of every module against each topology, through one public gateway:
${TOPOLOGIES.map((t) => `  ${t.id}  ${t.summary}`).join('\n')}

Options:
  --topologies <list>   which topologies, e.g. 1,3 (default: all five)
  --modules <list>      which modules, e.g. shop,events (default: ${MODULE_NAMES.join(',')})
  --load-seconds <n>    length of each module's load phase (default 3; 0 skips it)
  --out <dir>           where matrix.json and matrix.html go (default data/conformance)
  --help, --version

Needs Postgres, Redis and the etcd binary for topologies 2–5 (TEST_DATABASE_URL, TEST_REDIS_URL, ETCD_BIN).
Exit codes: 0 every cell passed, 1 a check failed, 2 a wrong command line (nothing is started).`;

const FLAGS = {
  topologies: { type: 'string' },
  modules: { type: 'string' },
  'load-seconds': { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** `1,3` → [1, 3]; a name that is not one of `valid` is a UsageError listing the valid ones. */
export function pick<T extends string | number>(what: string, list: string | undefined, valid: readonly T[]): T[] {
  if (!list) return [...valid];
  const names = list.split(',').map((x) => x.trim());
  const unknown = names.filter((n) => !valid.map(String).includes(n));
  if (unknown.length || !names.length) throw new UsageError(`conformance: unknown ${what} ${unknown.join(', ')}; valid: ${valid.join(', ')}`);
  return valid.filter((v) => names.includes(String(v)));
}

export interface Invocation {
  topologies: number[];
  modules: string[];
  loadSeconds: number;
  out: string;
}

/** The command line, checked; undefined when it asked for help or the version (already printed). */
export function parseCommand(args: string[], print: (text: string) => void): Invocation | undefined {
  const { values } = parseFlags('conformance', args, FLAGS, 0);
  if (values.help) return void print(USAGE);
  if (values.version) return void print(VERSION);
  const loadSeconds = Number(values['load-seconds'] ?? 3);
  if (!Number.isFinite(loadSeconds) || loadSeconds < 0)
    throw new UsageError(`conformance: --load-seconds must be a number ≥ 0, not "${values['load-seconds']}"`);
  return {
    topologies: pick(
      'topology',
      values.topologies as string | undefined,
      TOPOLOGIES.map((t) => t.id),
    ),
    modules: pick('module', values.modules as string | undefined, MODULE_NAMES),
    loadSeconds,
    out: (values.out as string | undefined) ?? join('data', 'conformance'),
  };
}

async function main(): Promise<number> {
  const print = (line: string) => void process.stdout.write(`${line}\n`);
  let command: Invocation | undefined;
  try {
    command = parseCommand(process.argv.slice(2), print);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (!command) return 0;
  const matrix = await runMatrix(
    TOPOLOGIES.filter((t) => command.topologies.includes(t.id)),
    command.modules,
    { loadSeconds: command.loadSeconds, concurrency: 10, log: print, logLevel: process.env.CONFORMANCE_LOG_LEVEL },
  );
  print(`\n${renderText(matrix)}`);
  print(`written: ${writeResults(command.out, matrix).join(', ')}`);
  return allPassed(matrix) ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`conformance failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
