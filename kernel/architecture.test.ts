// The architecture, checked on TypeScript's own scan of every import (static, side-effect, type-only, re-exported,
// dynamic): one module shape, module boundaries, layers that point one way, test support kept apart. The rules are
// data, in RULES below, and the module shape in ENVELOPE and SHARED_FILES; biome's noImportCycles keeps the graph free of circles.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { demoModule } from './fixtures/demo/index.ts';
import type { ModuleDefinition } from './module.ts';
import { allModules } from './registry.ts';
import { ROOT } from './testing/index.ts';

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** The relative imports of one file's text, as TypeScript reads them (`import '…'` and `import type` included). */
export function importsOf(text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'));
}

/** Each relative import of each file under `dir`, as [importing file, imported file], both relative to the root. */
export function importsUnder(dir: string): Array<[string, string]> {
  return [...tsFiles(join(ROOT, dir))].flatMap((file) =>
    importsOf(readFileSync(file, 'utf8')).map((spec): [string, string] => [relative(ROOT, file), relative(ROOT, resolve(dirname(file), spec))]),
  );
}

/**
 * Tests, `testing/` folders, kernel fixtures and the conformance suite (a harness of real processes, like the tests):
 * what tests and the bench share lives here, and production code never imports it.
 */
export const isTestSupport = (path: string) =>
  path.endsWith('.test.ts') || /(^|\/)testing\//.test(path) || path.startsWith('kernel/fixtures/') || path.startsWith('conformance/');

/** The code that runs in production: kernel/, db/ and modules/, tests and their support aside. */
const isProduction = (path: string) => /^(kernel|db|modules)\//.test(path) && !isTestSupport(path);

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

/** The db/ files a module may import: its database handle, transactions, migrations, hot reads, the statement cache and keys. */
const MODULE_DB = [
  'db/database.ts',
  'db/group-commit.ts',
  'db/ids.ts',
  'db/migrator.ts',
  'db/read.ts',
  'db/statement-cache.ts',
  'db/transaction-guard.ts',
  'db/write-transaction.ts',
];

/** What the bench may use besides: running the app as a process, seeding a module, the version it answers --version with. */
const BENCH_KERNEL = [...KERNEL_PUBLIC, 'kernel/spawn-app.ts', 'kernel/module-database.ts', 'kernel/version.ts'];

const moduleOf = (p: string) => /^modules\/([^/]+)\//.exec(p)?.[1];
const isModuleSurface = (p: string) => /^modules\/[^/]+\/(index|contract)\.ts$/.test(p);
/** The role whose folder holds `p` (modules/<m>/<role>/…); the shape test holds that every other folder is migrations/ or testing/. */
const roleOf = (p: string) => {
  const folder = /^modules\/[^/]+\/([^/]+)\//.exec(p)?.[1];
  return folder === 'migrations' || folder === 'testing' ? undefined : folder;
};

/**
 * What a module's root holds besides its role folders (docs/adding-a-module.md): the definition and what the kernel
 * and the tools read, and the module's tests of itself as a whole (through its routes, its processes).
 */
const ENVELOPE = ['index.ts', 'contract.ts', 'errors.ts', 'config.ts', 'smoke.ts', 'seed.ts', 'db.ts', 'migrations', 'testing'];

/**
 * The other files a module keeps at its root, because several of its roles (or its envelope) use them, with why.
 * The module names each in its index.ts too; anything one role alone uses lives in that role's folder.
 */
export const SHARED_FILES: Record<string, Record<string, string>> = {
  benchmark: {
    'api-keys.ts': "which API key the api role's target client and the target role's callbacks send",
    'report-json.ts': 'the report JSON the api role writes and the notifier mails',
    'sweep.ts': "the api role's and the notifier's periodic sweeps",
    'target-http.ts': 'HTTP to a checked address: the api role calling a target, the target role calling back',
    'target-policy.ts': 'which addresses a benchmark may reach: config.ts, the api role and the target role',
  },
  crowdfund: {
    'console.ts': "the /console pages of both roles' tables",
    'sql.ts': 'SQL helpers of both roles',
    'threads.proto': 'the threads contract on the wire, bound in contract.ts',
  },
  shop: {
    'page-size.ts': "the page-size field of both roles' lists",
    'stock-lines.ts': 'order lines as stock sees them: merged by orders, and by the products stores',
  },
};

interface Rule {
  rule: string;
  broken(from: string, to: string): boolean;
}

/** Every rule of the import graph, in one place. */
export const RULES: Rule[] = [
  {
    rule: 'production code never imports tests, testing/ support, fixtures or the conformance suite',
    broken: (from, to) => isProduction(from) && isTestSupport(to),
  },
  { rule: 'db/ imports nothing above it', broken: (from, to) => isProduction(from) && from.startsWith('db/') && !to.startsWith('db/') },
  {
    rule: "the kernel reaches a module only through kernel/registry.ts and the module's index.ts",
    broken: (from, to) =>
      isProduction(from) && from.startsWith('kernel/') && !!moduleOf(to) && !(from === 'kernel/registry.ts' && /^modules\/[^/]+\/index\.ts$/.test(to)),
  },
  {
    rule: `a module uses only these db/ files: ${MODULE_DB.join(', ')}`,
    broken: (from, to) => isProduction(from) && !!moduleOf(from) && to.startsWith('db/') && !MODULE_DB.includes(to),
  },
  {
    rule: 'another module is reachable only through its index.ts or contract.ts',
    broken: (from, to) => isProduction(from) && !!moduleOf(from) && !!moduleOf(to) && moduleOf(from) !== moduleOf(to) && !isModuleSurface(to),
  },
  {
    rule: "a role's files never import another role's folder: what roles share is a root file the module names (SHARED_FILES)",
    broken: (from, to) => isProduction(from) && moduleOf(from) === moduleOf(to) && !!roleOf(from) && !!roleOf(to) && roleOf(from) !== roleOf(to),
  },
  {
    rule: "a module uses only the kernel's public files (KERNEL_PUBLIC)",
    broken: (from, to) => isProduction(from) && !!moduleOf(from) && to.startsWith('kernel/') && !KERNEL_PUBLIC.includes(to) && !isTestSupport(to),
  },
  {
    rule: "the bench uses only the kernel's public files, spawn-app.ts, module-database.ts, version.ts and test support",
    broken: (from, to) => from.startsWith('bench/') && !isTestSupport(from) && to.startsWith('kernel/') && !BENCH_KERNEL.includes(to) && !isTestSupport(to),
  },
  {
    rule: 'nothing but the bench and tests imports the bench',
    broken: (from, to) => to.startsWith('bench/') && !from.startsWith('bench/') && !isTestSupport(from),
  },
];

/** Every rule broken by `edges`, one line each. */
export function violations(edges: Array<[string, string]>): string[] {
  return edges.flatMap(([from, to]) => RULES.filter((r) => r.broken(from, to)).map((r) => `${from} imports ${to}: ${r.rule}`));
}

describe('architecture', () => {
  it('the scan sees every kind of import: static, side-effect, type-only, re-exported, dynamic', () => {
    const text = [
      "import { a } from './a.ts';",
      "import '../testing/index.ts';",
      "import type { B } from './b.ts';",
      "export { c } from './c.ts';",
      "export * from './d.ts';",
      "const e = await import('./e.ts');",
      "import { z } from 'zod';",
    ].join('\n');
    assert.deepEqual(importsOf(text), ['./a.ts', '../testing/index.ts', './b.ts', './c.ts', './d.ts', './e.ts']);
  });

  it('the rules catch each kind of violation and allow what is allowed', () => {
    const allowed: Array<[string, string]> = [
      ['modules/shop/service.ts', 'modules/events/contract.ts'],
      ['modules/shop/service.ts', 'modules/shop/store/x.ts'],
      ['modules/shop/orders/service.ts', 'modules/shop/stock-lines.ts'],
      ['modules/shop/seed.ts', 'modules/shop/products/store.ts'],
      ['modules/shop/orders/service.test.ts', 'modules/shop/products/store.ts'],
      ['modules/shop/testing/store-contract.ts', 'modules/shop/products/store.ts'],
      ['modules/shop/store.ts', 'db/write-transaction.ts'],
      ['kernel/registry.ts', 'modules/shop/index.ts'],
      ['modules/shop/role.ts', 'kernel/http/route.ts'],
      ['bench/servers.ts', 'kernel/spawn-app.ts'],
      ['bench/scenarios/etcd.ts', 'kernel/testing/etcd.ts'],
      ['bench/scenarios/mail.ts', 'modules/benchmark/testing/smtp.ts'],
      ['modules/shop/x.test.ts', 'modules/events/storage/store/event-store.ts'],
      ['kernel/testing/etcd.ts', 'modules/cache/api/etcd-client.ts'],
      ['conformance/launch.ts', 'kernel/testing/etcd.ts'],
      ['bench/scenarios/kernel.ts', 'conformance/launch.ts'],
    ];
    assert.deepEqual(violations(allowed), []);
    const forbidden: Array<[string, string]> = [
      ['modules/shop/service.ts', 'modules/events/storage/store/event-store.ts'],
      ['modules/benchmark/notifier/role.ts', 'modules/benchmark/api/store.ts'],
      ['kernel/bootstrap.ts', 'modules/shop/routes.ts'],
      ['kernel/bootstrap.ts', 'modules/shop/contract.ts'],
      ['kernel/http/app.ts', 'kernel/testing/index.ts'],
      ['modules/shop/role.ts', 'modules/shop/testing/index.ts'],
      ['db/database.ts', 'kernel/config.ts'],
      ['modules/shop/store.ts', 'db/sqlite-writer.ts'],
      ['modules/shop/seed.ts', 'kernel/bus/index.ts'],
      ['bench/servers.ts', 'kernel/bootstrap.ts'],
      ['modules/shop/service.ts', 'bench/load.ts'],
    ];
    for (const edge of forbidden) assert.equal(violations([edge]).length, 1, `${edge.join(' → ')} is refused by exactly one rule`);
  });

  it('production code reads its database typed: no Kysely<any> outside migrations, tests and db/database.ts (the untyped handle)', () => {
    const untyped = ['kernel', 'db', 'modules']
      .flatMap((dir) => [...tsFiles(join(ROOT, dir))])
      .map((file) => relative(ROOT, file))
      .filter((file) => isProduction(file) && !/\/migrations\//.test(file) && file !== 'db/database.ts')
      .filter((file) => /\b(Kysely|Transaction)<any>/.test(readFileSync(join(ROOT, file), 'utf8')));
    assert.deepEqual(untyped, []);
  });

  it('no file of kernel, db, modules, bench or conformance breaks a rule', () => {
    const edges = ['modules', 'kernel', 'db', 'bench', 'conformance'].flatMap(importsUnder);
    assert.ok(edges.length > 100, 'the scan found imports');
    for (const dir of ['modules/', 'kernel/', 'db/', 'bench/', 'conformance/'])
      assert.ok(
        edges.some(([from]) => from.startsWith(dir)),
        `the scan covers ${dir}`,
      );
    assert.deepEqual(violations(edges), []);
  });

  it('every module has the one shape (docs/adding-a-module.md)', async () => {
    const problems: string[] = [];
    const definitions = new Map<string, ModuleDefinition>(allModules.map((m) => [`modules/${m.name}`, m]));
    // The worked example keeps the shape too.
    definitions.set('kernel/fixtures/demo', demoModule);
    for (const dir of readdirSync(join(ROOT, 'modules'))) {
      if (!definitions.has(`modules/${dir}`)) problems.push(`modules/${dir}: not registered in kernel/registry.ts (or its name differs from its folder)`);
    }
    for (const [at, def] of definitions) {
      const has = (file: string) => existsSync(join(ROOT, at, file));
      for (const file of ['index.ts', 'errors.ts', 'config.ts', 'smoke.ts']) if (!has(file)) problems.push(`${at}: no ${file}`);
      if (def.migrations && !has('migrations/index.ts')) problems.push(`${at}: has a database but no migrations/index.ts`);
      if (!def.migrations && has('migrations')) problems.push(`${at}: a migrations folder but no migrations in the definition`);
      const roles = Object.values(def.roles);
      if (roles.some((r) => r.provides || r.publishes?.length) && !has('contract.ts')) problems.push(`${at}: provides or publishes but has no contract.ts`);
      const index = readFileSync(join(ROOT, at, 'index.ts'), 'utf8');
      const exported = [...index.matchAll(/^export\s+(?:default\s+)?(?:const|function|class|type|interface|\{|\*)\s*(\w*)/gm)].map(
        (m) => m[1] || '(re-export)',
      );
      if (exported.length !== 1) problems.push(`${at}/index.ts exports ${exported.join(', ')}; it exports the definition only`);

      // Every role is a folder whose role.ts exports create<Role>Role, the factory the definition names.
      for (const [role, spec] of Object.entries(def.roles)) {
        const factory = `create${role.replace(/(^|-)([a-z0-9])/g, (_, _dash, c: string) => c.toUpperCase())}Role`;
        if (!has(`${role}/role.ts`)) {
          problems.push(`${at}: role ${role} has no ${role}/role.ts`);
          continue;
        }
        const exports = (await import(pathToFileURL(join(ROOT, at, role, 'role.ts')).href)) as Record<string, unknown>;
        if (exports[factory] !== spec.create) problems.push(`${at}: role ${role}'s create is not ${factory}, exported by ${role}/role.ts`);
      }

      // The root holds the envelope, the role folders, the shared files the module names, and tests of the whole module.
      const shared = SHARED_FILES[def.name] ?? {};
      for (const entry of readdirSync(join(ROOT, at), { withFileTypes: true })) {
        const name = entry.name;
        if (ENVELOPE.includes(name) || name.endsWith('.test.ts') || (entry.isDirectory() && name in def.roles)) continue;
        if (name in shared) continue;
        problems.push(
          entry.isDirectory()
            ? `${at}/${name}/: a folder that is no role, migrations/ or testing/`
            : `${at}/${name}: move it into the folder of the role that uses it, or name it shared (SHARED_FILES and a line in index.ts)`,
        );
      }
      for (const name of Object.keys(shared)) {
        if (!has(name)) problems.push(`${at}/${name}: named shared in SHARED_FILES, but there is no such file`);
        else if (!index.includes(name)) problems.push(`${at}/index.ts: says nothing of its shared file ${name} (which roles use it)`);
      }
    }
    // docs/architecture.md names every role of every module.
    const architecture = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    for (const def of allModules)
      for (const role of Object.keys(def.roles))
        if (!architecture.includes(`\`${def.name}.${role}\``)) problems.push(`docs/architecture.md: "Modules and roles" does not name ${def.name}.${role}`);
    assert.deepEqual(problems, []);
  });
});
