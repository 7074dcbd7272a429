// `node --import tsx bench/startup.ts [--runs 5] [--idle-ms 5000]`: time to /readyz and idle RSS of `npm start` vs the compiled server.
//
// Every module runs on its embedded defaults (SQLite files in a fresh DATA_DIR, in-process bus, memory cache).
// Ready is from spawn to the first 200 of /readyz (polled every 10 ms). RSS is the sum over the whole process
// tree (npm, node, tsx's esbuild service) after idling, read from /proc.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, tempDir } from '../kernel/spawn-app.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function tree(pid: number): number[] {
  const path = `/proc/${pid}/task/${pid}/children`;
  const kids = existsSync(path) ? readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
  return [pid, ...kids.flatMap(tree)];
}

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

interface Sample {
  readyMs: number;
  rssMiB: number;
  processes: number;
}

async function measure(command: string, args: string[], cwd: string, idleMs: number): Promise<Sample> {
  const port = await freePort();
  const started = performance.now();
  const proc: ChildProcess = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), GRPC_PORT: '0', DATA_DIR: tempDir('cantons-startup-'), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}/readyz`;
  while (
    !(await fetch(url).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (proc.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited ${proc.exitCode}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, idleMs));
  const pids = tree(proc.pid!);
  const rssMiB = pids.reduce((sum, pid) => sum + rssKiB(pid), 0) / 1024;
  proc.kill('SIGTERM');
  await exited;
  return { readyMs, rssMiB, processes: pids.length };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'idle-ms': { type: 'string', default: '5000' } }, strict: true });
  const runs = Number(values.runs);
  const idleMs = Number(values['idle-ms']);
  const dir = tempDir('cantons-startup-build-');
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'kernel/build.ts'), '--out', join(dir, 'dist')], { stdio: 'inherit' });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const setups: [string, string, string[], string][] = [
    ['npm start (tsx, from source)', 'npm', ['start'], ROOT],
    ['node dist/kernel/cli.js start (compiled)', process.execPath, [join(dir, 'dist/kernel/cli.js'), 'start'], dir],
  ];
  process.stdout.write(`Node ${process.version}, ${runs} runs each, RSS after ${idleMs} ms idle; medians (min–max)\n\n`);
  process.stdout.write('| command | ready | idle RSS (process tree) | processes |\n|---|---|---|---|\n');
  for (const [name, command, args, cwd] of setups) {
    const samples: Sample[] = [];
    // One untimed run first: the file cache and esbuild's transform cache warm, as on a developer's second start.
    await measure(command, args, cwd, 0);
    for (let i = 0; i < runs; i++) samples.push(await measure(command, args, cwd, idleMs));
    const ready = samples.map((s) => s.readyMs);
    const rss = samples.map((s) => s.rssMiB);
    process.stdout.write(
      `| \`${name}\` | ${median(ready).toFixed(0)} ms (${Math.min(...ready).toFixed(0)}–${Math.max(...ready).toFixed(0)}) | ` +
        `${median(rss).toFixed(0)} MB (${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)}) | ${samples[0].processes} |\n`,
    );
  }
}
