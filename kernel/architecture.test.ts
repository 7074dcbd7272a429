// The architecture, checked: one module shape, module boundaries, layers that point one way, test support kept apart.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { allModules } from './registry.ts';
import { ROOT } from './testing/index.ts';

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

// Type-only imports count too: a type import is still a dependency of the layer.
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Each relative import of each file under `dir`, as [importing file, imported file], both relative to the root. */
export function importsUnder(dir: string): Array<[string, string]> {
  const edges: Array<[string, string]> = [];
  for (const file of tsFiles(join(ROOT, dir))) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) edges.push([relative(ROOT, file), relative(ROOT, resolve(dirname(file), spec))]);
    }
  }
  return edges;
}

/** Tests, `testing/` folders and kernel fixtures: they may import anything, and nothing else may import them. */
/** Tests, their support and the conformance suite (a harness of real processes, like the tests). */
export const isTestSupport = (path: string) =>
  path.endsWith('.test.ts') || /(^|\/)testing\//.test(path) || path.startsWith('kernel/fixtures/') || path.startsWith('conformance/');

/** The kernel files a module may import: the module contract and the helpers a module is built from. */
export const KERNEL_PUBLIC = [
  'kernel/module.ts',
  'kernel/contract.ts',
  'kernel/errors.ts',
  'kernel/config.ts',
  'kernel/logger.ts',
  'kernel/backoff.ts',
  'kernel/http/route.ts',
  'kernel/http/cursor.ts',
  'kernel/http/body.ts',
  'kernel/bus/types.ts',
  'kernel/smoke.ts',
  // `traced(name, kind, fn)` only: a module's own calls out of cantons (a target, SMTP, etcd) as spans.
  'kernel/tracing/traced.ts',
  // The one SVG chart writer (docs/decisions/0018): the benchmark report draws with it, as the console and the bench do.
  'kernel/svg-charts.ts',
];

/** What the bench may use besides: running the app as a process, seeding a module, the version it answers --version with. */
const BENCH_KERNEL = [...KERNEL_PUBLIC, 'kernel/spawn-app.ts', 'kernel/module-database.ts', 'kernel/version.ts'];

const moduleOf = (p: string) => /^modules\/([^/]+)\//.exec(p)?.[1];
const isModuleSurface = (p: string) => /^modules\/[^/]+\/(index|contract)\.ts$/.test(p);

/** Every rule broken by `edges`, one line each. */
export function violations(edges: Array<[string, string]>): string[] {
  const found: string[] = [];
  for (const [from, to] of edges) {
    const broken = (rule: string) => found.push(`${from} imports ${to}: ${rule}`);
    if (!isTestSupport(from) && isTestSupport(to)) broken('production code never imports test support');
    if (isTestSupport(from)) continue;
    if (from.startsWith('db/') && !to.startsWith('db/')) broken('db/ imports nothing above it');
    const target = moduleOf(to);
    if (target && moduleOf(from) !== target) {
      if (from === 'kernel/registry.ts' ? !to.endsWith('/index.ts') : !isModuleSurface(to))
        broken('another module is reachable only through its index.ts or contract.ts');
    }
    if (moduleOf(from) && to.startsWith('kernel/') && !KERNEL_PUBLIC.includes(to))
      broken(`a module uses only the kernel's public files (${KERNEL_PUBLIC.join(', ')})`);
    if (from.startsWith('bench/') && to.startsWith('kernel/') && !BENCH_KERNEL.includes(to))
      broken('the bench uses only public kernel files, spawn-app.ts and module-database.ts');
    if ((from.startsWith('kernel/') || from.startsWith('db/') || from.startsWith('modules/')) && to.startsWith('bench/'))
      broken('nothing but tests imports the bench');
  }
  return found;
}

describe('architecture', () => {
  it('the rules catch each kind of violation and allow what is allowed', () => {
    assert.deepEqual(
      violations([
        ['modules/shop/service.ts', 'modules/events/store/events-store.ts'],
        ['modules/shop/service.ts', 'modules/events/contract.ts'],
        ['modules/shop/service.ts', 'modules/shop/store/x.ts'],
        ['kernel/registry.ts', 'modules/shop/index.ts'],
        ['kernel/bootstrap.ts', 'modules/shop/routes.ts'],
        ['db/database.ts', 'kernel/config.ts'],
        ['modules/shop/seed.ts', 'kernel/bus/index.ts'],
        ['modules/shop/role.ts', 'kernel/http/route.ts'],
        ['bench/scenarios/cache.ts', 'modules/cache/testing/balancer.ts'],
        ['bench/servers.ts', 'kernel/testing/index.ts'],
        ['bench/servers.ts', 'kernel/spawn-app.ts'],
        ['modules/shop/x.test.ts', 'modules/events/store/events-store.ts'],
        ['kernel/testing/etcd.ts', 'modules/cache/etcd-client.ts'],
        ['bench/cli.ts', 'conformance/launch.ts'],
        ['conformance/launch.ts', 'kernel/testing/etcd.ts'],
      ]).map((v) => v.split(':')[0]),
      [
        'modules/shop/service.ts imports modules/events/store/events-store.ts',
        'kernel/bootstrap.ts imports modules/shop/routes.ts',
        'db/database.ts imports kernel/config.ts',
        'modules/shop/seed.ts imports kernel/bus/index.ts',
        'bench/scenarios/cache.ts imports modules/cache/testing/balancer.ts',
        'bench/scenarios/cache.ts imports modules/cache/testing/balancer.ts',
        'bench/servers.ts imports kernel/testing/index.ts',
        'bench/servers.ts imports kernel/testing/index.ts',
        'bench/cli.ts imports conformance/launch.ts',
      ],
    );
  });

  it('no file of kernel, db, modules, bench or conformance breaks a rule', () => {
    const edges = ['modules', 'kernel', 'db', 'bench', 'conformance'].flatMap(importsUnder);
    assert.ok(edges.length > 100, 'the scan found imports');
    assert.ok(
      edges.some(([from]) => from.startsWith('bench/')),
      'the scan covers bench/',
    );
    assert.deepEqual(violations(edges), []);
  });

  it('every module has the one shape (docs/adding-a-module.md)', () => {
    const problems: string[] = [];
    for (const dir of readdirSync(join(ROOT, 'modules'))) {
      const has = (file: string) => existsSync(join(ROOT, 'modules', dir, file));
      const def = allModules.find((m) => m.name === dir);
      if (!def) {
        problems.push(`modules/${dir}: not registered in kernel/registry.ts (or its name differs from its folder)`);
        continue;
      }
      for (const file of ['index.ts', 'errors.ts', 'config.ts', 'smoke.ts']) if (!has(file)) problems.push(`modules/${dir}: no ${file}`);
      if (def.migrations && !has('migrations/index.ts')) problems.push(`modules/${dir}: has a database but no migrations/index.ts`);
      if (!def.migrations && has('migrations')) problems.push(`modules/${dir}: a migrations folder but no migrations in the definition`);
      const roles = Object.values(def.roles);
      if (roles.some((r) => r.provides || r.publishes?.length) && !has('contract.ts'))
        problems.push(`modules/${dir}: provides or publishes but has no contract.ts`);
      const index = readFileSync(join(ROOT, 'modules', dir, 'index.ts'), 'utf8');
      const exported = [...index.matchAll(/^export\s+(?:default\s+)?(?:const|function|class|type|interface|\{|\*)\s*(\w*)/gm)].map(
        (m) => m[1] || '(re-export)',
      );
      if (exported.length !== 1) problems.push(`modules/${dir}/index.ts exports ${exported.join(', ')}; it exports the definition only`);
    }
    assert.deepEqual(problems, []);
  });
});
