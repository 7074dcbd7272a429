// docs/errors.md and README's configuration table match the code (regenerate with npm run docs).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import {
  ARCHITECTURE,
  architectureWithMatrix,
  ENV_EXAMPLE,
  ERRORS_DOC,
  README,
  readmeWithConfig,
  renderEnvExample,
  renderErrorsDoc,
} from './generated-docs.ts';
import { tempDir } from './spawn-app.ts';

it('docs/errors.md lists exactly the declared error codes', () => {
  assert.equal(readFileSync(ERRORS_DOC, 'utf8'), renderErrorsDoc());
});

it('README.md lists exactly the environment variables the config schemas read', () => {
  assert.equal(readFileSync(README, 'utf8'), readmeWithConfig());
});

it('.env.example lists exactly the environment variables the config schemas read, each at its default', () => {
  assert.equal(readFileSync(ENV_EXAMPLE, 'utf8'), renderEnvExample());
  const listed = [...renderEnvExample().matchAll(/^#([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
  const tabled = [...readmeWithConfig().matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(listed, tabled);
});

it("npm run docs puts the last conformance matrix between docs/architecture.md's markers, and leaves the file alone without one", () => {
  const dir = tempDir('cantons-docs-');
  const matrix = join(dir, 'matrix.md');
  writeFileSync(matrix, '| module | 1: one process |\n|---|---|\n| shop | pass |\n');
  const updated = architectureWithMatrix(matrix)!;
  assert.match(
    updated,
    /<!-- conformance:start \(npm run docs\) -->\n\| module \| 1: one process \|\n\|---\|---\|\n\| shop \| pass \|\n<!-- conformance:end -->/,
  );
  assert.equal(
    updated.replace(/<!-- conformance:start[\s\S]*?<!-- conformance:end -->/, ''),
    readFileSync(ARCHITECTURE, 'utf8').replace(/<!-- conformance:start[\s\S]*?<!-- conformance:end -->/, ''),
  );
  assert.equal(architectureWithMatrix(join(dir, 'none.md')), undefined);
});
