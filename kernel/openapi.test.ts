// /openapi.json of the whole app: an OpenAPI linter finds no error in it, and every documented example works.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { lintFromString, loadConfig } from '@redocly/openapi-core';
import type { RouteSpec } from './http/route.ts';
import { buildOpenApi } from './openapi.ts';
import { ROOT, startTestApp, type TestApp } from './testing/app.ts';

const KEY = 'openapi-test-key-0123456789';

async function documentOf(env: Record<string, string> = {}) {
  const t = await startTestApp({ env });
  const doc = await (await fetch(`${t.url}/openapi.json`, { headers: env.API_KEYS ? { 'x-api-key': env.API_KEYS } : {} })).json();
  return { t, doc };
}

const operations = (doc: any) =>
  Object.entries<Record<string, any>>(doc.paths).flatMap(([path, methods]) => Object.entries<any>(methods).map(([method, op]) => ({ path, method, op })));

describe('/openapi.json', () => {
  for (const [name, env] of [
    ['without API_KEYS', {}],
    ['with API_KEYS', { API_KEYS: KEY }],
  ] as const) {
    it(`has no error under redocly's recommended rules (${name})`, async () => {
      const { t, doc } = await documentOf(env);
      await t.close();
      // The repository's redocly.yaml, so that a user's own `redocly lint` agrees with this test.
      const config = await loadConfig({ configPath: join(ROOT, 'redocly.yaml') });
      const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
      const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
      assert.deepEqual(errors, []);
      const warnings = problems.filter((p) => p.severity === 'warn').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
      assert.deepEqual(warnings, []);
      if (name === 'with API_KEYS') assert.ok(doc.components.securitySchemes.bearerAuth);
    });
  }

  it('gives every operation a unique camelCase operationId, a summary, a description and named responses', async () => {
    const { t, doc } = await documentOf();
    await t.close();
    const ops = operations(doc);
    assert.ok(ops.length >= 40, `${ops.length} operations`);
    assert.doesNotMatch(JSON.stringify(doc), /9007199254740991/, "zod's safe-integer bounds are not shown as limits or examples");
    const ids = ops.map((o) => o.op.operationId);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    for (const { path, method, op } of ops) {
      const at = `${method} ${path}`;
      assert.match(op.operationId, /^[a-z][A-Za-z0-9]*$/, at);
      assert.ok(op.summary && op.description, `${at} has a summary and a description`);
      for (const [status, response] of Object.entries<any>(op.responses)) {
        assert.ok(response.$ref || (response.description && !/^\d+$/.test(response.description)), `${at} ${status} is named`);
      }
      if (op.requestBody) assert.ok('example' in Object.values<any>(op.requestBody.content)[0], `${at} has an example body`);
      for (const [status, response] of Object.entries<any>(op.responses)) {
        // A JSON document served as text (a report) is the one answer without one.
        const json = response.content?.['application/json'];
        if (Number(status) < 400 && json && json.schema.type !== 'string') assert.ok('example' in json, `${at} ${status} has an example`);
      }
      for (const p of op.parameters ?? []) if (p.in === 'path') assert.ok(p.example !== undefined, `${at} has an example for ${p.name}`);
    }
  });
});

describe('buildOpenApi', () => {
  const spec = (path: string, more: Partial<RouteSpec> = {}) => ({
    module: 'demo',
    method: 'get' as const,
    path,
    summary: 's',
    responses: { 200: null },
    handler: () => ({}),
    ...more,
  });

  it('documents every route, deriving an operationId where none is given', () => {
    const doc = buildOpenApi([spec('/a'), spec('/b')], '1') as any;
    assert.deepEqual(Object.keys(doc.paths), ['/a', '/b']);
    assert.equal(doc.paths['/b'].get.operationId, 'getB');
  });

  it('refuses an error code no catalogue declares, and an operationId used twice', () => {
    assert.throws(() => buildOpenApi([spec('/a', { errors: ['NO_SUCH_CODE'] })], '1'), /NO_SUCH_CODE/);
    assert.throws(() => buildOpenApi([spec('/a', { operationId: 'same' }), spec('/b', { operationId: 'same' })], '1'), /same is used twice/);
  });
});

/**
 * Every operation's example, sent on a fresh app, answers the operation's first documented status (or its
 * x-example-status). The order is the document's, with the DELETEs last and in reverse, so that what one example
 * creates (a product) is still there for the next (an order of it). Cookies are kept, as a browser on /docs
 * keeps them (the benchmark target's login).
 */
describe('the documented examples', () => {
  let t: TestApp;
  let doc: any;
  before(async () => {
    ({ t, doc } = await documentOf());
  });
  after(() => t?.close());

  it('each answers its documented status', async () => {
    const cookies = new Map<string, string>();
    const failures: string[] = [];
    const ops = operations(doc);
    const inOrder = [...ops.filter((o) => o.method !== 'delete'), ...ops.filter((o) => o.method === 'delete').reverse()];
    for (const { path, method, op } of inOrder) {
      const params: any[] = op.parameters ?? [];
      const value = (p: any) => String(p.example);
      let url = path.replace(/\{(\w+)\}/g, (_: string, name: string) => encodeURIComponent(value(params.find((p) => p.in === 'path' && p.name === name))));
      const query = new URLSearchParams(params.filter((p) => p.in === 'query' && p.example !== undefined).map((p) => [p.name, value(p)]));
      if (query.size) url += `?${query}`;
      const headers: Record<string, string> = Object.fromEntries(
        params.filter((p) => p.in === 'header' && p.example !== undefined).map((p) => [p.name, value(p)]),
      );
      if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      let body: string | FormData | undefined;
      const [type, media] = Object.entries<any>(op.requestBody?.content ?? {})[0] ?? [];
      if (type === 'multipart/form-data') {
        // Strings are fields, arrays are files with those contents (what a browser's form would send).
        body = new FormData();
        for (const [k, v] of Object.entries<any>(media.example)) {
          if (Array.isArray(v)) for (const [i, text] of v.entries()) (body as FormData).append(k, new Blob([text]), `${k}-${i + 1}.txt`);
          else body.append(k, String(v));
        }
      } else if (type) {
        headers['content-type'] = type;
        body = JSON.stringify(media.example);
      }
      const res = await fetch(`${t.url}${url}`, { method: method.toUpperCase(), headers, body });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
      }
      const expected =
        op['x-example-status'] ??
        Math.min(
          ...Object.keys(op.responses)
            .filter((s) => s !== 'default')
            .map(Number),
        );
      const text = await res.text();
      if (res.status !== expected) failures.push(`${method.toUpperCase()} ${url} → ${res.status}, documented ${expected}: ${text.slice(0, 200)}`);
    }
    assert.deepEqual(failures, []);
  });
});
