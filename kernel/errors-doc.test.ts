// docs/errors.md lists exactly the codes the code declares.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { renderErrorsDoc } from './errors-doc.ts';
import { ROOT } from './testing.ts';

it('docs/errors.md is up to date (regenerate with npm run docs:errors)', () => {
  assert.equal(readFileSync(join(ROOT, 'docs/errors.md'), 'utf8'), renderErrorsDoc());
});
