// A bounded, seeded fuzz of the public port: every operation of /openapi.json with defective input (NUL and
// lone surrogates, wrong types, deep or broken JSON, wrong Content-Type, oversized bodies, odd paths and
// queries), unknown methods on every path, and raw-socket framing errors. Zero 5xx, and nothing stored.
// FUZZ_SEED=<n> replays a run; FUZZ_ROUNDS=<n> makes it longer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from './testing/index.ts';
import { rawRequest, rawSocket } from './testing/raw-http.ts';
import { createRandom, type Random } from '../bench/random.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 12);
const BODY_LIMIT = 64 * 1024;

// The bench's seeded generator (mulberry32), so a failing run can be replayed exactly with its FUZZ_SEED.
type Rng = Random;

type Schema = Record<string, any>;

/** A plausible value for a JSON schema: the right shape, not necessarily valid. */
function sample(schema: Schema | undefined, rng: Rng, depth = 0): unknown {
  if (!schema || depth > 4) return 'x';
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return rng.pick(schema.enum);
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts) return sample(rng.pick(alts), rng, depth + 1);
  const type = Array.isArray(schema.type) ? rng.pick(schema.type) : schema.type;
  switch (type) {
    case 'string':
      return schema.format === 'date-time' ? new Date(0).toISOString() : 'fuzz'.repeat(1 + rng.int(0, 2)).slice(0, schema.maxLength ?? 100);
    case 'integer':
      return Math.max(schema.minimum ?? 1, 1) + rng.int(0, 4);
    case 'number':
      return Math.max(schema.minimum ?? 1, 1) + rng.next();
    case 'boolean':
      return rng.next() < 0.5;
    case 'null':
      return null;
    case 'array':
      return Array.from({ length: Math.max(schema.minItems ?? 0, 1) }, () => sample(schema.items, rng, depth + 1));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries<Schema>(schema.properties ?? {})) out[k] = sample(s, rng, depth + 1);
      return out;
    }
    default:
      return { any: 'value' };
  }
}

/** Paths to every string in a value (as arrays of keys), so one can be replaced. */
function stringPaths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof v === 'string') return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => stringPaths(x, [...at, i]));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => stringPaths(x, [...at, k]));
  return [];
}

function setAt(root: unknown, path: Array<string | number>, value: unknown): unknown {
  if (!path.length) return value;
  const copy: any = Array.isArray(root) ? [...root] : { ...(root as object) };
  copy[path[0]] = setAt(copy[path[0]], path.slice(1), value);
  return copy;
}

const BAD_TEXT = ['a\u0000b', '\u0000', '\ud800', 'x\udfffy', '\ud83d'];
const ODD_SEGMENTS = [
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%FF',
  '%',
  '%zz',
  '..',
  '%2e%2e',
  'x'.repeat(3000),
  '%F0%9F%98%80',
  '-1',
  '0',
  '1e309',
  'null',
  '%0d%0a',
  '%20',
];
const ODD_QUERIES = [
  'limit=-1',
  'limit=1e309',
  'limit=abc',
  'cursor=%00',
  'cursor=AAAA',
  `cursor=${'A'.repeat(5000)}`,
  'x=%00',
  'x=%ED%A0%80',
  'a[b]=1',
  'limit=1&limit=2',
  '%',
  '=&=&',
  'use_cache=maybe',
  'title=%00',
];
const READS = new Set(['GET', 'HEAD']);

interface Op {
  method: string;
  path: string;
  params: Array<{ name: string; in: string; schema?: Schema }>;
  body?: Schema;
}

interface Req {
  method: string;
  path: string;
  body?: string | Buffer;
  headers: Record<string, string>;
  why: string;
}

function fill(op: Op, rng: Rng, segment?: string): string {
  return op.path.replace(/\{([^}]+)\}/g, () => segment ?? rng.pick(['x', 'fuzz', '1', 'a/b']));
}

/** One request that must be refused (a write) or may be anything harmless (a read). */
function defective(op: Op, rng: Rng): Req {
  const json = { 'content-type': 'application/json' };
  const hasParams = /\{/.test(op.path);
  const valid = op.body ? sample(op.body, rng) : undefined;
  const kinds = [
    'query-nul',
    ...(hasParams ? ['path-nul'] : []),
    ...(op.body ? ['body-text', 'type', 'cross-site', 'deep', 'broken', 'huge'] : []),
    ...(READS.has(op.method) ? ['odd-path', 'odd-query'] : []),
  ];
  const kind = rng.pick(kinds);
  const req: Req = { method: op.method, path: fill(op, rng), headers: {}, why: kind };
  if (op.body && kind !== 'cross-site') req.headers = json;
  if (op.body) req.body = JSON.stringify(valid);
  switch (kind) {
    case 'query-nul':
      req.path += `?${rng.pick(['x', 'limit', 'title', 'cursor'])}=${rng.pick(['%00', 'a%00', '%ED%A0%80%00'])}`;
      break;
    case 'path-nul':
      req.path = fill(op, rng, rng.pick(['%00', 'a%00b', 'x%00']));
      break;
    case 'body-text': {
      const paths = stringPaths(valid);
      const bad = rng.pick(BAD_TEXT);
      const mutated = paths.length
        ? setAt(valid, rng.pick(paths), bad)
        : valid && typeof valid === 'object' && !Array.isArray(valid)
          ? { ...valid, [bad]: bad }
          : [bad];
      req.body = JSON.stringify(mutated);
      break;
    }
    case 'type': {
      const required: string[] = op.body?.required ?? [];
      if (!required.length) {
        req.body = JSON.stringify(['\u0000']);
        break;
      }
      const key = rng.pick(required);
      const t = op.body?.properties?.[key]?.type;
      // A field of several types (an id as a string or an integer) has no type here: an object is none of them.
      const wrong =
        t === 'string'
          ? rng.pick([12345, true, ['\u0000']])
          : t === undefined
            ? rng.pick(['\u0000', { not: 'a scalar' }])
            : rng.pick(['\u0000', 'not-a-number']);
      req.body = JSON.stringify({ ...(valid as object), [key]: wrong });
      break;
    }
    case 'cross-site':
      // What a page on another site can send without a preflight, as its browser declares it (kernel/http/cross-origin.ts).
      req.headers = {
        ...rng.pick<Record<string, string>>([
          { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
          { 'sec-fetch-site': 'same-site', origin: 'http://other.127.0.0.1.example' },
          { origin: 'https://evil.example' },
          { origin: 'null' },
        ]),
        'content-type': rng.pick([
          'text/plain',
          'text/plain;charset=UTF-8',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=zz',
          'application/xml',
          'application/json; charset=latin1',
        ]),
      };
      break;
    case 'deep': {
      const depth = rng.pick([65, 200, 5000, 20_000]);
      req.body = rng.next() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      break;
    }
    case 'broken':
      req.body = rng.pick([
        '',
        ' ',
        '{',
        '{"a":',
        '[1,',
        'nul',
        '"\\u00"',
        '{"a" 1}',
        '\u0000',
        Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'),
        '{"a":"\\ud800"}',
        String(req.body).slice(0, -1),
      ]);
      break;
    case 'huge':
      req.body = JSON.stringify({ pad: 'p'.repeat(BODY_LIMIT + 10) });
      break;
    case 'odd-path':
      req.path = fill(op, rng, rng.pick(ODD_SEGMENTS));
      break;
    case 'odd-query':
      req.path += `?${rng.pick(ODD_QUERIES)}`;
      break;
  }
  return req;
}

const UNKNOWN = ['TRACE', 'PROPFIND', 'SEARCH', 'PURGE', 'LOCK', 'MKCOL', 'LINK', 'REPORT', 'M-SEARCH', 'SUBSCRIBE', 'OPTIONS', 'PATCH', 'DELETE', 'PUT'];

const FRAMING = [
  `GET /${'u'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  `GET /products HTTP/1.1\r\nHost: x\r\nX: ${'h'.repeat(20_000)}\r\n\r\n`,
  'GET /products HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n',
  'GET /products HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n',
  'GET /products HTTP/1.1\r\nHo st: x\r\n\r\n',
  'POST /products HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
  'POST /products HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  'POST /products HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /products HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
  'GET /products HTTP/1.1\r\n\r\n',
  'GET /products HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n',
  'GET /products HTTP/9.9\r\nHost: x\r\n\r\n',
  'FOO /products HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET\r\n\r\n',
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003',
  'GET /products HTTP/1.1\nHost: x\n\n',
  'POST /products HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a"',
];

describe(`fuzz the public port (FUZZ_SEED=${SEED})`, () => {
  let t: TestApp;
  const ops: Op[] = [];
  before(async () => {
    // The cache reads its body itself, up to twice CACHE_MAX_VALUE_BYTES: this makes 'huge' too large there as well.
    t = await startTestApp({ env: { GRPC_PORT: '0', BODY_LIMIT: String(BODY_LIMIT), CACHE_MAX_VALUE_BYTES: String(BODY_LIMIT / 2) } });
    const spec = await (await fetch(`${t.url}/openapi.json`)).json();
    for (const [path, methods] of Object.entries<Record<string, any>>(spec.paths)) {
      for (const [method, op] of Object.entries<any>(methods)) {
        ops.push({ method: method.toUpperCase(), path, params: op.parameters ?? [], body: op.requestBody?.content?.['application/json']?.schema });
      }
    }
  });
  after(() => t?.close());

  /** Every row of every table of every module database, and the cache's keys: what "nothing stored" compares. */
  async function stored(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [name, mdb] of t.kernel.databases) {
      for (const table of await mdb.db.introspection.getTables()) {
        const { n } = (await sql<{ n: number }>`select count(*) as n from ${sql.table(table.name)}`.execute(mdb.db)).rows[0];
        out[`${name}.${table.name}`] = Number(n);
      }
    }
    out['cache keys'] = await (await fetch(`${t.url}/config?limit=1000`)).text();
    return out;
  }

  it('answers every defective request below 500 and stores nothing', async () => {
    assert.ok(ops.length >= 20, `${ops.length} operations in /openapi.json`);
    const before = await stored();
    const rng = createRandom(SEED);
    const failures: string[] = [];
    let sent = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const op of ops) {
        const req = defective(op, rng);
        const res = await rawRequest(t.url, req.method, req.path, req.body as string | undefined, req.headers).catch((err: Error) => ({
          status: 0,
          text: err.message,
          headers: {},
        }));
        sent++;
        if (res.status >= 500 || res.status === 0)
          failures.push(`${req.method} ${req.path.slice(0, 120)} [${req.why}] → ${res.status} ${res.text.slice(0, 200)}`);
        if (!READS.has(op.method) && res.status < 400 && res.status !== 0)
          failures.push(`${req.method} ${req.path.slice(0, 120)} [${req.why}] accepted: ${res.status} ${res.text.slice(0, 200)}`);
      }
    }
    assert.deepEqual(failures, [], `seed ${SEED}, ${sent} requests`);
    assert.ok(sent >= ops.length * ROUNDS);
    assert.deepEqual(await stored(), before, 'nothing stored');
  });

  it('answers unknown methods on every path with 4xx JSON', async () => {
    const rng = createRandom(SEED + 1);
    const failures: string[] = [];
    for (const path of new Set(ops.map((o) => o.path))) {
      const declared = new Set(ops.filter((o) => o.path === path).map((o) => o.method));
      for (const method of UNKNOWN.filter((m) => !declared.has(m))) {
        const res = await rawRequest(t.url, method, fill({ method, path, params: [] }, rng));
        const okBody = (method === 'OPTIONS' && res.status === 204) || (res.status >= 400 && res.status < 500 && /"error"/.test(res.text));
        if (!okBody) failures.push(`${method} ${path} → ${res.status} ${res.text.slice(0, 200)}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('answers raw framing errors with 4xx (JSON when it answers) and keeps serving', async () => {
    const before = await stored();
    const port = Number(new URL(t.url).port);
    const failures: string[] = [];
    for (const bytes of FRAMING) {
      const out = await rawSocket(port, Buffer.from(bytes, 'latin1'), 500);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(out)?.[1] ?? 0);
      if (status >= 500 || (out && !status)) failures.push(`${JSON.stringify(bytes.slice(0, 60))} → ${JSON.stringify(out.slice(0, 200))}`);
      if (status >= 400 && !/\r\n\r\n[\s\S]*"error"/.test(out))
        failures.push(`${JSON.stringify(bytes.slice(0, 60))}: no JSON error body: ${JSON.stringify(out.slice(0, 300))}`);
    }
    assert.deepEqual(failures, []);
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    assert.deepEqual(await stored(), before, 'nothing stored');
  });
});
