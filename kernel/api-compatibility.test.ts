// docs/api-compatibility.md's tables of the originals' clients name only routes that exist: each `METHOD /path` in
// them is an operation of /openapi.json of the whole app, and each table names at least one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { ROOT, startTestApp } from './testing/index.ts';

it("every route docs/api-compatibility.md's client tables name is in /openapi.json", async () => {
  const doc = readFileSync(join(ROOT, 'docs/api-compatibility.md'), 'utf8');
  const section = doc.slice(doc.indexOf("## The originals' own clients"), doc.indexOf('## gRPC'));
  const tables = section.split(/^### /m).slice(1);
  assert.ok(tables.length >= 4, 'a table per module the originals reached');
  const t = await startTestApp();
  try {
    const spec = await (await fetch(`${t.url}/openapi.json`)).json();
    const missing: string[] = [];
    for (const table of tables) {
      const named = [...table.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s]*)`/g)];
      assert.ok(named.length, `the ${table.split('\n')[0]} table names a route`);
      for (const [, method, path] of named) if (!spec.paths[path]?.[method.toLowerCase()]) missing.push(`${method} ${path}`);
    }
    assert.deepEqual(missing, []);
  } finally {
    await t.close();
  }
});
