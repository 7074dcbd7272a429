// docs/errors.md and README's configuration table match the code (regenerate with npm run docs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ERRORS_DOC, README, readmeWithConfig, renderErrorsDoc } from './generated-docs.ts';

it('docs/errors.md lists exactly the declared error codes', () => {
  assert.equal(readFileSync(ERRORS_DOC, 'utf8'), renderErrorsDoc());
});

it('README.md lists exactly the environment variables the config schemas read', () => {
  assert.equal(readFileSync(README, 'utf8'), readmeWithConfig());
});
