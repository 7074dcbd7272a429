// `npm test` stays green after someone used the app: what the app writes (data/: databases, reports, the
// conformance matrix) is git-ignored, and the lint step of `npm test` skips git-ignored files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { it } from 'node:test';

it('the lint step skips what the app wrote under data/ (git-ignored), however it is formatted', () => {
  mkdirSync('data/conformance', { recursive: true });
  const probe = 'data/conformance/lint-probe.json';
  writeFileSync(probe, '{"a":1,   "b":[1,2,\n3]}'); // far from biome's format
  try {
    const lint = spawnSync('npx', ['biome', 'ci', '--colors=off', '.'], { encoding: 'utf8' });
    assert.doesNotMatch(lint.stdout + lint.stderr, /^data\/conformance\/lint-probe\.json/m);
  } finally {
    rmSync(probe);
  }
});
