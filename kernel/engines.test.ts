// Every installed package runs on every Node.js the project's `engines` admits (npm ci --engine-strict passes).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import semver from 'semver';

type Manifest = { name?: string; version?: string; engines?: { node?: string } };
const readJson = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

/** Every package under a node_modules folder: scoped ones, and those nested in a package's own node_modules. */
function* installed(dir: string): Generator<{ path: string; manifest: Manifest }> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || !(entry.isDirectory() || entry.isSymbolicLink())) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      yield* installed(path);
      continue;
    }
    const manifest = join(path, 'package.json');
    if (existsSync(manifest)) yield { path, manifest: readJson(manifest) };
    yield* installed(join(path, 'node_modules'));
  }
}

const project = readJson('package.json');
const range = project.engines?.node ?? '';
// The oldest Node the project promises, and the one running the tests (CI's, a developer's).
const nodes = [semver.minVersion(range)!.version, process.versions.node];

it('the project states a Node.js range, and the running Node.js is in it', () => {
  assert.ok(semver.validRange(range), `package.json engines.node "${range}" is not a semver range`);
  assert.ok(semver.satisfies(process.versions.node, range), `Node ${process.versions.node} is outside engines.node ${range}`);
});

it('package-lock.json states the same engines as package.json', () => {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, Manifest> };
  assert.deepEqual(lock.packages[''].engines, project.engines);
});

it(`every installed package accepts Node ${nodes.join(' and ')} (engines.node ${range})`, () => {
  const conflicts: string[] = [];
  let count = 0;
  for (const { path, manifest } of installed('node_modules')) {
    count++;
    const wants = manifest.engines?.node;
    if (!wants) continue;
    for (const node of nodes) {
      if (!semver.satisfies(node, wants)) conflicts.push(`${manifest.name}@${manifest.version} (${path}) wants node ${wants}, not ${node}`);
    }
  }
  assert.ok(count > 50, `only ${count} packages under node_modules: run npm ci first`);
  assert.deepEqual(conflicts, [], 'pin these to versions that run on the Node range of package.json');
});
