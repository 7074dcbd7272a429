// The bench CLI: strict argument parsing, declared flags, scenario discovery, --help and the refusals, report verdicts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { loadScenario, parseArgs, scenarioNames } from './cli.ts';
import { formatResult } from './report.ts';
import { cpuRatio, meetsTarget, ratio, ratioAndCpu, type RunRecord } from './scenario.ts';
import { ROOT } from './servers.ts';

const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/cli.ts'), ...args], { cwd: ROOT }).then(
    (r) => ({ code: 0, ...r }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );

const events = {
  name: 'events',
  flags: { only: { type: 'string', description: '' }, fast: { type: 'boolean', description: '' }, rounds: { type: 'string', description: '', default: '5' } },
} as const;

test("parseArgs reads numbers, inline values, the scenario's own flags with their defaults, and --quiet", () => {
  assert.deepEqual(parseArgs(['--connections', '20', '--duration=3', '--only', 'noop,split', '--no-progress', '--fast', '--quiet', '40'], events), {
    help: false,
    version: false,
    progress: false,
    connections: 20,
    durationSec: 3,
    warmupSec: undefined,
    flags: { only: 'noop,split', fast: true, rounds: '5', quiet: '40' },
  });
  assert.deepEqual(parseArgs(['-c', '7', '--rounds', '2'], events).flags, { rounds: '2' });
  assert.throws(() => parseArgs(['--connections', 'many'], events), /--connections needs a number ≥ 1, got many/);
  assert.throws(() => parseArgs(['--duration', 'Infinity'], events), /--duration needs a number ≥ 0.1, got Infinity/);
  assert.throws(() => parseArgs(['--duration'], events), /^Error: --duration needs a value$/);
  assert.throws(() => parseArgs(['--only', '--fast'], events), /^Error: --only needs a value$/);
  assert.throws(() => parseArgs(['--fast=yes'], events), /--fast takes no value/);
  assert.throws(() => parseArgs(['shop'], events), /unexpected argument "shop"/);
  assert.throws(
    () => parseArgs(['--bogus', '1'], events),
    /^Error: unknown flag --bogus; valid for events: --connections, --duration, --warmup, --quiet, --no-progress, --help, --version, --only, --fast, --rounds$/,
  );
});

test('every flag a scenario reads from opts.flags is declared in its flags', async () => {
  for (const name of scenarioNames()) {
    const source = readFileSync(join(ROOT, 'bench/scenarios', `${name}.ts`), 'utf8');
    const read = [...source.matchAll(/flags(?:\.([a-z]+)|\['([a-z-]+)'\])/g)].map((m) => m[1] ?? m[2]).filter((f) => f !== 'quiet');
    const declared = Object.keys((await loadScenario(name)).flags ?? {});
    assert.deepEqual(
      read.filter((f) => !declared.includes(f)),
      [],
      `bench/scenarios/${name}.ts reads undeclared flags`,
    );
  }
});

test('a flag the scenario does not know exits 2 listing the valid ones; <scenario> --help shows its own', async () => {
  const bogus = await run(['cache', '--bogus', '1']);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /^unknown flag --bogus; valid for cache: --connections, .*--only, --instances, .*--etcd-url\n$/);
  const help = await run(['cache', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: npm run bench -- cache \[flags\]\n\nconfig cache on etcd/);
  assert.match(help.stdout, /^ {6}--instances … +N app instances .*\(default 4\)$/m);
  assert.match(help.stdout, /^ {2}-c, --connections … +N keep-alive/m);
  const top = await run(['--bogus']);
  assert.equal(top.code, 2);
  assert.match(top.stderr, /unknown flag --bogus; valid for npm run bench: --help, --version, --chart, --out/);
});

test('scenarios are discovered from bench/scenarios, tests excluded', () => {
  const names = scenarioNames();
  assert.ok(names.includes('events'));
  assert.ok(names.every((n) => !n.endsWith('.test')));
});

test('--help lists the scenarios; an unknown scenario exits 2 naming the available ones', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: npm run bench -- <scenario>/);
  assert.match(help.stdout, /^ {2}events {5}events ingest/m);
  const unknown = await run(['nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown scenario "nope"; available: .*events/);
});

test('--chart FILE --out DIR writes each chart of a stored result as an SVG named after it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-chart-'));
  const timeline = [{ t: 1, requests: 500, ok: 500, errors: 0, rps: 500, p50: 1, p90: 2, p99: 3, max: 4 }];
  const stored = {
    scenario: 'x',
    startedAt: '2026-12-01T12:00:00.000Z',
    options: {},
    machine: { cpus: 2 },
    runs: [
      { ...rec('ours #1', 500), timeline },
      { ...rec('ours #2', 400), timeline },
    ],
  };
  writeFileSync(join(dir, 'x-1.json'), JSON.stringify(stored));
  const r = await run(['--chart', join(dir, 'x-1.json'), '--out', join(dir, 'charts')]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(join(dir, 'charts')).sort(), ['x-1-latency-ours.svg', 'x-1-rounds.svg', 'x-1-throughput-ours.svg']);
  assert.match(
    readFileSync(join(dir, 'charts', 'x-1-rounds.svg'), 'utf8'),
    /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*>ok\/s of each setup, round by round<[\s\S]*>ours<\/text>[\s\S]*<\/svg>\n$/,
  );
  rmSync(dir, { recursive: true });
});

const rec = (label: string, okRps: number, serverCpuUsPerOk: number | null = null) =>
  ({
    label,
    okRps,
    rps: okRps,
    connections: 10,
    elapsedMs: 1000,
    steps: {},
    serverCpuPercent: null,
    serverCpuUsPerOk,
    loadgenCpuPercent: 50,
    latency: { count: 1, min: 1, max: 1, avg: 1, p50: 1, p90: 1, p95: 1, p99: 1 },
    errors: { total: 0, status: 0, status5xx: 0, network: 0, assertion: 0, samples: {} },
  }) as unknown as RunRecord;

test('the report says MET or NOT MET from the exact ratio, and FAIL for a failed check', () => {
  const a = rec('ours', 799);
  const b = rec('bare', 1000);
  const low = ratio('ours ÷ bare', a, b, 0.8);
  assert.equal(low.value, 0.8); // rounded for display …
  assert.equal(low.met, false); // … but judged exactly
  const text = formatResult('x', {
    runs: [a, b],
    ratios: [
      low,
      ratio('bare ÷ ours', b, a, 1),
      { name: 'cost, large ÷ small', value: 1.25, target: 1.2, better: 'lower', met: meetsTarget(1.25, 1.2, 'lower'), detail: 'd' },
      { name: 'cost, flat', value: 0.9, target: 1.2, better: 'lower', met: meetsTarget(0.9, 1.2, 'lower'), detail: 'd' },
    ],
    checks: [{ name: 'zero 5xx', pass: false, detail: '3 of 10' }],
  });
  assert.match(text, /ours ÷ bare = 0\.8 {2}target ≥ 0\.8: NOT MET/);
  assert.match(text, /bare ÷ ours = 1\.25 {2}target ≥ 1: MET/);
  // A cost ratio (lower is better): "≤", and met at or below the target.
  assert.match(text, /cost, large ÷ small = 1\.25 {2}target ≤ 1\.2: NOT MET/);
  assert.match(text, /cost, flat = 0\.9 {2}target ≤ 1\.2: MET/);
  assert.match(text, /FAIL {2}zero 5xx {2}\(3 of 10\)/);
});

test('over rounds a ratio is the median of the per-round ratios; the CPU ratio compares server µs per request', () => {
  const ours = [rec('ours #1', 700, 150), rec('ours #2', 900, 120), rec('ours #3', 400, 300)];
  const bare = [rec('bare #1', 1000, 100), rec('bare #2', 1000, 100), rec('bare #3', 1000, 100)];
  const r = ratio('ours ÷ bare', ours, bare, 0.8);
  assert.equal(r.value, 0.7); // per round 0.7, 0.9, 0.4
  assert.equal(r.met, false);
  assert.match(r.detail, /median of 3 rounds: 0\.7, 0\.9, 0\.4/);
  const cpu = cpuRatio('by cpu', ours, bare);
  assert.equal(cpu?.value, 0.67); // per round 0.67, 0.83, 0.33
  assert.equal(cpuRatio('no cpu', [rec('a', 1)], [rec('b', 1)]), undefined);
  assert.throws(() => ratio('uneven', ours, bare.slice(1)), /3 runs against 2/);
  const [thr, byCpu, ...rest] = ratioAndCpu('ours ÷ bare', ours, bare, 0.6, 0.7);
  assert.deepEqual([thr.name, thr.value, thr.met], ['ours ÷ bare', 0.7, true]);
  assert.deepEqual([byCpu.name, byCpu.value, byCpu.target, byCpu.met], ['ours ÷ bare, by server CPU per request', 0.67, 0.7, false]);
  assert.equal(rest.length, 0);
  assert.equal(ratioAndCpu('no cpu', [rec('a', 1)], [rec('b', 1)]).length, 1);
});

test("README's bench line names every scenario", () => {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const line = /^npm run bench -- --help .*$/m.exec(readme)?.[0] ?? '';
  assert.deepEqual(
    scenarioNames().filter((name) => !new RegExp(`\\b${name}\\b`).test(line)),
    [],
  );
});
