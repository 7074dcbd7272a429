// `npm run split`: a topology (default 4, compose.yaml's) as local processes behind one gateway.
//   npm run split [-- module …]           start it, run the modules' smoke tests through the gateway, stop
//   npm run split -- --serve [--topology N] start it and keep it running until Ctrl-C (SIGINT) or SIGTERM
// Either way everything the run created (processes, Redis keys, the database, etcd's data, certificates) is removed at the end.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, UsageError } from '../kernel/cli-flags.ts';
import { VERSION } from '../kernel/version.ts';
import { pick } from './cli.ts';
import { launch, type Running } from './launch.ts';
import { MODULE_NAMES, TOPOLOGIES, topology } from './topologies.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const USAGE = `npm run split [-- options] [module …]

Starts a topology as local processes on free ports behind one gateway (Postgres, Redis and etcd as for
npm run conformance), then either runs the smoke test of each module named (default: all) and stops, or
with --serve keeps it running until Ctrl-C.

${TOPOLOGIES.map((t) => `  ${t.id}  ${t.summary}`).join('\n')}

Options:
  --topology <n>   which topology (default 4)
  --serve          print "gateway <url>" and serve until SIGINT or SIGTERM, then remove everything
  --help, --version
Modules: ${MODULE_NAMES.join(', ')}. Exit codes: 0 done, 1 a smoke test or start-up failed, 2 a wrong command line.`;

const FLAGS = {
  topology: { type: 'string' },
  serve: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** `npm run smoke -- <module> <url>`, as a person would run it. */
function smoke(module: string, url: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'kernel/cli.ts'), 'smoke', module, url], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    proc.once('exit', (code) => resolve({ code, output }));
  });
}

/** Runs the command; resolves its exit code. */
export async function split(args: string[], out: (line: string) => void, err: (line: string) => void = out): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let modules: string[];
  let chosen: number;
  try {
    const parsed = parseFlags('split', args, FLAGS);
    values = parsed.values;
    if (values.help || values.version) {
      out(values.help ? USAGE : VERSION);
      return 0;
    }
    chosen = pick(
      'topology',
      (values.topology as string | undefined) ?? '4',
      TOPOLOGIES.map((t) => t.id),
    )[0];
    if (values.topology && String(values.topology).includes(',')) throw new UsageError('split: --topology takes one number');
    modules = pick('module', parsed.positionals.join(',') || undefined, MODULE_NAMES);
    if (values.serve && parsed.positionals.length) throw new UsageError('split: --serve runs no smoke test; name no module with it');
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(e.message.replace(/^conformance:/, 'split:'));
    return 2;
  }

  let running: Running | undefined;
  try {
    running = await launch(topology(chosen), { log: out, logLevel: process.env.SPLIT_LOG_LEVEL });
    out(`run ${running.run}: ${running.processes.length} processes of topology ${chosen}`);
    if (values.serve) {
      out(`gateway ${running.gateway}`);
      const signal = await new Promise<string>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      out(`${signal}: stopping every process and removing what the run created`);
      return 0;
    }
    let passed = 0;
    for (const m of modules) {
      // Each cache instance keeps its own copy: each is smoke-tested; everything else through the gateway.
      for (const url of m === 'cache' ? running.instances('cache.api') : [running.gateway]) {
        const { code, output } = await smoke(m, url);
        for (const line of output.trimEnd().split('\n')) out(`  ${line}`);
        if (code !== 0) {
          out(`split: the ${m} smoke test failed against ${url}`);
          return 1;
        }
      }
      passed++;
    }
    out(`split: ${running.processes.length} processes, the smoke tests of ${modules.join(', ')} passed (${passed} of ${modules.length})`);
    return passed === modules.length ? 0 : 1;
  } catch (e) {
    err(`split: ${(e as Error).message}`);
    return 1;
  } finally {
    await running?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  split(
    process.argv.slice(2),
    (line) => void process.stdout.write(`${line}\n`),
    (line) => void process.stderr.write(`${line}\n`),
  ).then((code) => process.exit(code));
}
