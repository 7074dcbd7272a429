// docs/errors.md and README's configuration table match the code (regenerate with npm run docs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ENV_EXAMPLE, ERRORS_DOC, README, readmeWithConfig, renderEnvExample, renderErrorsDoc } from './generated-docs.ts';

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
