// `npm run bench -- <scenario> [--connections N] [--duration S] [--warmup S] [--no-progress] [--help]`
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatResult } from './report.ts';
import type { BenchOptions, Scenario } from './scenario.ts';
import { stopAllServers } from './servers.ts';

const BENCH = dirname(fileURLToPath(import.meta.url));
const SCENARIOS = join(BENCH, 'scenarios');
const RESULTS = join(BENCH, 'results');

export function scenarioNames(dir = SCENARIOS): string[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts')).map((f) => f.slice(0, -3)).sort();
}

export async function loadScenario(name: string, dir = SCENARIOS): Promise<Scenario> {
  const mod = await import(pathToFileURL(join(dir, `${name}.ts`)).href);
  const s = (mod.default ?? mod.scenario) as Scenario | undefined;
  if (!s || typeof s.run !== 'function') throw new Error(`bench/scenarios/${name}.ts exports no scenario (default export { name, description, run })`);
  return s;
}

export interface ParsedArgs {
  scenario?: string;
  help: boolean;
  progress: boolean;
  connections?: number;
  durationSec?: number;
  warmupSec?: number;
  flags: Record<string, string | boolean>;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const parsed: ParsedArgs = { help: false, progress: true, flags: {} };
  const number = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min) throw new UsageError(`${flag} needs a number ≥ ${min}, got ${value ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--help' || flag === '-h') parsed.help = true;
    else if (flag === '--no-progress') parsed.progress = false;
    else if (flag === '--connections' || flag === '-c') parsed.connections = Math.floor(number(flag, value(), 1));
    else if (flag === '--duration' || flag === '-d') parsed.durationSec = number(flag, value(), 0.1);
    else if (flag === '--warmup') parsed.warmupSec = number(flag, value(), 0);
    else if (flag.startsWith('--')) {
      const next = inline ?? argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        parsed.flags[flag.slice(2)] = next;
        if (inline === undefined) i++;
      } else parsed.flags[flag.slice(2)] = true;
    } else if (!parsed.scenario) parsed.scenario = arg;
    else throw new UsageError(`unexpected argument "${arg}"`);
  }
  return parsed;
}

class UsageError extends Error {}

async function help(): Promise<string> {
  const lines = [
    'Usage: npm run bench -- <scenario> [--connections N] [--duration S] [--warmup S] [--no-progress] [--<knob> value]',
    '',
    'Each scenario starts its servers as child processes, loads them from this process over N keep-alive',
    'connections for S seconds (after S of warm-up, default 1), prints a table and writes',
    'bench/results/<scenario>-<timestamp>.json. Exit code 1 when a scenario check (e.g. zero 5xx) fails.',
    'Every run reports "other cpu": what other processes used meanwhile; --quiet P waits (up to 60 s) before',
    'each run for a second in which they used less than P % of a core.',
    '',
    'Scenarios:',
  ];
  for (const name of scenarioNames()) {
    try {
      const s = await loadScenario(name);
      const d = s.defaults ?? {};
      lines.push(`  ${name.padEnd(10)} ${s.description}${d.connections || d.durationSec ? ` (default ${d.connections ?? 50} connections, ${d.durationSec ?? 10} s)` : ''}`);
    } catch (err) {
      lines.push(`  ${name.padEnd(10)} (cannot load: ${(err as Error).message.split('\n')[0]})`);
    }
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help || !args.scenario) {
    process.stdout.write(`${await help()}\n`);
    return args.help ? 0 : 2;
  }
  const names = scenarioNames();
  if (!names.includes(args.scenario)) {
    process.stderr.write(`unknown scenario "${args.scenario}"; available: ${names.join(', ') || '(none)'} — see npm run bench -- --help\n`);
    return 2;
  }
  const scenario = await loadScenario(args.scenario);
  const opts: BenchOptions = {
    connections: args.connections ?? scenario.defaults?.connections ?? 50,
    durationSec: args.durationSec ?? scenario.defaults?.durationSec ?? 10,
    warmupSec: args.warmupSec ?? 1,
    flags: args.flags,
  };
  const startedAt = new Date();
  process.stdout.write(`bench ${scenario.name}: ${opts.connections} connections, ${opts.durationSec} s per run, ${opts.warmupSec} s warm-up\n`);
  const result = await scenario.run(opts, { log: (line) => void process.stdout.write(`${line}\n`), progress: args.progress });
  process.stdout.write(`${formatResult(scenario.name, result)}\n`);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${scenario.name}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { node: process.version, platform: process.platform, cpus: (await import('node:os')).cpus().length };
  writeFileSync(file, `${JSON.stringify({ scenario: scenario.name, startedAt, options: opts, machine, ...result }, null, 2)}\n`);
  process.stdout.write(`\nresults written to ${relative(process.cwd(), file)}\n`);
  return result.checks?.some((c) => !c.pass) ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping servers\n`);
      void stopAllServers().finally(() => process.exit(130));
    });
  }
  main(process.argv.slice(2)).then(
    async (code) => {
      await stopAllServers();
      process.exit(code);
    },
    async (err) => {
      process.stderr.write(`${err instanceof UsageError ? err.message : (err as Error).stack ?? err}\n`);
      await stopAllServers();
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
