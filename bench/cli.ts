// `npm run bench -- <scenario> [--connections N] [--duration S] [--warmup S] [--no-progress] [--<flag of the scenario> …] [--help]`
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs as parseFlags } from 'node:util';
import { resultCharts } from './charts.ts';
import { renderHtml } from './html.ts';
import { PartCounter } from './parts.ts';
import { formatResult } from './report.ts';
import type { BenchOptions, FlagSpec, Scenario, StoredResult } from './scenario.ts';
import { stopAllServers } from './servers.ts';
import { VERSION } from '../kernel/version.ts';

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
  return files
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export async function loadScenario(name: string, dir = SCENARIOS): Promise<Scenario> {
  const mod = await import(pathToFileURL(join(dir, `${name}.ts`)).href);
  const s = (mod.default ?? mod.scenario) as Scenario | undefined;
  if (!s || typeof s.run !== 'function') throw new Error(`bench/scenarios/${name}.ts exports no scenario (default export { name, description, run })`);
  return s;
}

type Flag = FlagSpec & { short?: string };

/** Flags every scenario takes (besides its own, declared in `Scenario.flags`). */
const COMMON_FLAGS: Record<string, Flag> = {
  connections: { type: 'string', short: 'c', description: "N keep-alive connections, one virtual user each (default: the scenario's, else 50)" },
  duration: { type: 'string', short: 'd', description: "S seconds per measured run (default: the scenario's, else 10)" },
  warmup: { type: 'string', description: 'S seconds of discarded load before each run (default 1)' },
  quiet: { type: 'string', description: 'P: before each run, wait up to 60 s for a second in which other processes used < P % of a core' },
  'no-progress': { type: 'boolean', description: 'no live progress line on stderr' },
  help: { type: 'boolean', short: 'h', description: "this scenario's description and flags" },
  version: { type: 'boolean', short: 'v', description: 'the version of cantons' },
};

/** Without a scenario: the list of scenarios, or charts of a stored result. */
const TOP_FLAGS: Record<string, Flag> = {
  help: { type: 'boolean', short: 'h', description: 'the scenarios and how to run them' },
  version: { type: 'boolean', short: 'v', description: 'the version of cantons' },
  chart: { type: 'string', description: 'FILE: draw a stored result (bench/results/*.json) as SVG charts …' },
  out: { type: 'string', description: 'DIR: … into this directory (default: beside FILE), e.g. docs/charts' },
};

export interface ParsedArgs {
  help: boolean;
  version: boolean;
  progress: boolean;
  connections?: number;
  durationSec?: number;
  warmupSec?: number;
  /** The scenario's own flags, defaults filled in, and --quiet. */
  flags: Record<string, string | boolean>;
}

const flagList = (specs: Record<string, FlagSpec>) =>
  Object.keys(specs)
    .map((f) => `--${f}`)
    .join(', ');

/** util.parseArgs in strict mode, its errors reworded to name the command and what it accepts. */
function strictParse(argv: string[], specs: Record<string, Flag>, command: string) {
  // parseArgs refuses keys set to undefined, so only the three it knows, and only when given.
  const options = Object.fromEntries(Object.entries(specs).map(([name, { description: _, ...spec }]) => [name, spec]));
  try {
    return parseFlags({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const { code, message } = err as Error & { code?: string };
    const flag = /'(?:-\w, )?(-[^' ]+)/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown flag ${flag}; valid for ${command}: ${flagList(specs)}`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      throw new UsageError(`unexpected argument "${/'([^']*)'/.exec(message)?.[1]}" (flags of ${command}: ${flagList(specs)})`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new UsageError(/does not take/.test(message) ? `${flag} takes no value` : `${flag} needs a value`);
    throw err;
  }
}

/** The flags after `<scenario>`: the common ones and the scenario's own, nothing else. */
export function parseArgs(argv: string[], scenario: Pick<Scenario, 'name' | 'flags'>): ParsedArgs {
  const own = scenario.flags ?? {};
  const clash = Object.keys(own).filter((f) => f in COMMON_FLAGS);
  if (clash.length) throw new Error(`bench/scenarios/${scenario.name}.ts declares common flags ${clash.join(', ')}`);
  const values = strictParse(argv, { ...COMMON_FLAGS, ...own }, scenario.name);
  const number = (flag: string, min: number) => {
    const v = values[flag] as string | undefined;
    if (v !== undefined && !(Number.isFinite(Number(v)) && Number(v) >= min)) throw new UsageError(`--${flag} needs a number ≥ ${min}, got ${v}`);
    return v === undefined ? undefined : Number(v);
  };
  const connections = number('connections', 1);
  const flags: Record<string, string | boolean> = {};
  for (const name of [...Object.keys(own), 'quiet']) if (values[name] !== undefined) flags[name] = values[name] as string | boolean;
  return {
    help: values.help === true,
    version: values.version === true,
    progress: values['no-progress'] !== true,
    connections: connections === undefined ? undefined : Math.floor(connections),
    durationSec: number('duration', 0.1),
    warmupSec: number('warmup', 0),
    flags,
  };
}

class UsageError extends Error {}

function flagLines(specs: Record<string, Flag>): string[] {
  const names = Object.entries(specs).map(([name, s]) => `${s.short ? `-${s.short}, ` : '    '}--${name}${s.type === 'string' ? ' …' : ''}`);
  const width = Math.max(...names.map((n) => n.length));
  return Object.values(specs).map((s, i) => `  ${names[i].padEnd(width)}  ${s.description}${s.default === undefined ? '' : ` (default ${s.default})`}`);
}

function scenarioHelp(s: Scenario): string {
  const d = s.defaults ?? {};
  return [
    `Usage: npm run bench -- ${s.name} [flags]`,
    '',
    s.description,
    `Default: ${d.connections ?? 50} connections, ${d.durationSec ?? 10} s per run, 1 s warm-up.`,
    '',
    `Flags of ${s.name}:`,
    ...(s.flags ? flagLines(s.flags) : ['  (none)']),
    '',
    'Common flags:',
    ...flagLines(COMMON_FLAGS),
  ].join('\n');
}

async function help(): Promise<string> {
  const lines = [
    'Usage: npm run bench -- <scenario> [--connections N] [--duration S] [--warmup S] [--no-progress] [--<knob> value]',
    "       npm run bench -- <scenario> --help      that scenario's description and flags",
    '       npm run bench -- --chart FILE [--out DIR]   a stored result as SVG charts (e.g. for docs/charts)',
    '',
    'Each scenario starts its servers as child processes, loads them from this process over N keep-alive',
    'connections for S seconds (after S of warm-up, default 1), prints a table and writes',
    'bench/results/<scenario>-<timestamp>.json, and beside it an HTML report with charts.',
    'Exit code 1 when a scenario check (e.g. zero 5xx) fails, 2 for a flag it does not know.',
    'Every run reports "other cpu": what other processes used meanwhile; --quiet P waits (up to 60 s) before',
    'each run for a second in which they used less than P % of a core.',
    '',
    'Scenarios:',
  ];
  for (const name of scenarioNames()) {
    try {
      const s = await loadScenario(name);
      const d = s.defaults ?? {};
      lines.push(
        `  ${name.padEnd(10)} ${s.description}${d.connections || d.durationSec ? ` (default ${d.connections ?? 50} connections, ${d.durationSec ?? 10} s)` : ''}`,
      );
    } catch (err) {
      lines.push(`  ${name.padEnd(10)} (cannot load: ${(err as Error).message.split('\n')[0]})`);
    }
  }
  return lines.join('\n');
}

/** `--chart FILE [--out DIR]`: every chart of a stored result as its own SVG file, named after the result. */
function writeCharts(file: string, out = dirname(file)): string[] {
  const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredResult;
  mkdirSync(out, { recursive: true });
  return resultCharts(stored).map((c) => {
    const path = join(out, `${basename(file, '.json')}-${c.id}.svg`);
    writeFileSync(path, `${c.svg}\n`);
    return path;
  });
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name.startsWith('-')) {
    const top = strictParse(argv, TOP_FLAGS, 'npm run bench');
    if (top.version) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (typeof top.chart === 'string') {
      for (const path of writeCharts(top.chart, top.out as string | undefined)) process.stdout.write(`${relative(process.cwd(), path)}\n`);
      return 0;
    }
    process.stdout.write(`${await help()}\n`);
    return top.help ? 0 : 2;
  }
  const names = scenarioNames();
  if (!names.includes(name)) {
    process.stderr.write(`unknown scenario "${name}"; available: ${names.join(', ') || '(none)'} — see npm run bench -- --help\n`);
    return 2;
  }
  const scenario = await loadScenario(name);
  const args = parseArgs(rest, scenario);
  if (args.help || args.version) {
    process.stdout.write(`${args.help ? scenarioHelp(scenario) : VERSION}\n`);
    return 0;
  }
  const opts: BenchOptions = {
    connections: args.connections ?? scenario.defaults?.connections ?? 50,
    durationSec: args.durationSec ?? scenario.defaults?.durationSec ?? 10,
    warmupSec: args.warmupSec ?? 1,
    flags: args.flags,
  };
  const startedAt = new Date();
  process.stdout.write(`bench ${scenario.name}: ${opts.connections} connections, ${opts.durationSec} s per run, ${opts.warmupSec} s warm-up\n`);
  const parts = new PartCounter(Number(opts.flags.rounds ?? 1) || 1);
  const result = await scenario.run(opts, { log: (line) => void process.stdout.write(`${line}\n`), progress: args.progress, parts });
  process.stdout.write(`${formatResult(scenario.name, result)}\n`);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${scenario.name}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { node: process.version, platform: process.platform, cpus: os.cpus().length };
  const stored: StoredResult = { scenario: scenario.name, startedAt: startedAt.toISOString(), options: opts, machine, ...result };
  writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`);
  const html = file.replace(/\.json$/, '.html');
  writeFileSync(html, renderHtml(stored));
  process.stdout.write(`\nresults written to ${relative(process.cwd(), file)}, report ${relative(process.cwd(), html)}\n`);
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
      process.stderr.write(`${err instanceof UsageError ? err.message : ((err as Error).stack ?? err)}\n`);
      await stopAllServers();
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
