// The module boundary: another module's files are reachable only through its index.ts or contract.ts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './testing/index.ts';

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

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

/** The violations of the boundary rule among `edges`. */
export function boundaryViolations(edges: Array<[string, string]>): string[] {
  const moduleOf = (p: string) => /^modules\/([^/]+)\//.exec(p)?.[1];
  return edges
    .filter(([from, to]) => {
      const target = moduleOf(to);
      if (!target || moduleOf(from) === target) return false;
      if (from === 'kernel/registry.ts') return !to.endsWith('/index.ts');
      return !/^modules\/[^/]+\/(index|contract)\.ts$/.test(to);
    })
    .map(([from, to]) => `${from} imports ${to}`);
}

describe('architecture', () => {
  it('the rule catches a deep import and allows index.ts and contract.ts', () => {
    assert.deepEqual(
      boundaryViolations([
        ['modules/shop/service.ts', 'modules/events/store/events-store.ts'],
        ['modules/shop/service.ts', 'modules/events/contract.ts'],
        ['modules/shop/service.ts', 'modules/shop/store/x.ts'],
        ['kernel/registry.ts', 'modules/shop/index.ts'],
        ['kernel/bootstrap.ts', 'modules/shop/routes.ts'],
      ]),
      ['modules/shop/service.ts imports modules/events/store/events-store.ts', 'kernel/bootstrap.ts imports modules/shop/routes.ts'],
    );
  });

  it('no module, kernel or db file crosses a module boundary', () => {
    const edges = ['modules', 'kernel', 'db'].flatMap(importsUnder);
    assert.ok(edges.length > 20, 'the scan found imports');
    assert.deepEqual(boundaryViolations(edges), []);
  });
});
