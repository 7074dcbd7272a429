// The events endpoints over the real app: every route, bad input on each (4xx, nothing stored), 200 concurrent POSTs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, gate, startTestApp, type TestApp } from '../../kernel/testing/index.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp({ env: { MODULES: 'events' } });
});
after(() => app?.close());

interface Res {
  status: number;
  body: any;
  headers: Headers;
}

async function req(method: string, path: string, opts: { json?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  const body = opts.raw ?? (opts.json === undefined ? undefined : JSON.stringify(opts.json));
  const res = await fetch(app.url + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // assertions below show the raw text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const now = () => new Date().toISOString();
const snow = (o: Record<string, unknown> = {}) => ({ device_id: 'dev-1', resort_id: 'res-1', depth: 30, timestamp: '2024-01-05T08:00:00Z', ...o });
const ride = (o: Record<string, unknown> = {}) => ({
  device_id: 'dev-2',
  resort_id: 'res-1',
  lift_id: 'L1',
  wait_minutes: 4,
  timestamp: '2024-01-05T08:00:00+01:00',
  ...o,
});
const WIDE = 'start_timestamp=2000-01-01T00:00:00Z&end_timestamp=2999-01-01T00:00:00Z';

async function counts(): Promise<[number, number]> {
  const s = await req('GET', '/events/stats');
  assert.equal(s.status, 200);
  return [s.body.snow_reports.count, s.body.lift_rides.count];
}

/** A refused request: the given 4xx, the catalogue's body shape, and (checked by the caller) nothing stored. */
function refused(res: Res, status: number, code?: string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  assert.equal(typeof res.body?.error, 'string', JSON.stringify(res.body));
  assert.equal(typeof res.body?.message, 'string');
  if (code) assert.equal(res.body.error, code, res.body.message);
}

describe('events over HTTP', () => {
  it('POST answers 201 with a new UUID trace id, or keeps the client X-Trace-Id / X-Request-Id', async () => {
    const a = await req('POST', '/events/snow-reports', { json: snow() });
    assert.equal(a.status, 201);
    assert.match(a.body.trace_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(Object.keys(a.body), ['trace_id']);
    assert.equal(a.headers.get('x-trace-id'), a.body.trace_id);
    const b = await req('POST', '/events/lift-rides', { json: ride(), headers: { 'x-trace-id': 'client-trace:42' } });
    assert.deepEqual([b.status, b.body], [201, { trace_id: 'client-trace:42' }]);
    const c = await req('POST', '/events/snow-reports', { json: snow(), headers: { 'x-request-id': 'req-7' } });
    assert.deepEqual([c.status, c.body], [201, { trace_id: 'req-7' }]);
    const stored = await req('GET', '/events/lift-rides/by-trace/client-trace%3A42');
    assert.equal(stored.status, 200);
    assert.equal(stored.body.lift_id, 'L1');
    assert.equal(stored.body.timestamp, '2024-01-05T08:00:00+01:00');
  });

  it('a repeated trace id is stored once and answered the same', async () => {
    const [snowBefore] = await counts();
    const first = await req('POST', '/events/snow-reports', { json: snow({ depth: 11 }), headers: { 'x-trace-id': 'retry-me' } });
    const second = await req('POST', '/events/snow-reports', { json: snow({ depth: 12 }), headers: { 'x-trace-id': 'retry-me' } });
    assert.deepEqual([first.status, second.status], [201, 201]);
    assert.deepEqual(second.body, first.body);
    assert.equal((await counts())[0], snowBefore + 1);
    assert.equal((await req('GET', '/events/snow-reports/by-trace/retry-me')).body.depth, 11);
  });

  it('lists by date_created range with limit and cursor; reads by index; stats', async () => {
    const start = now();
    const posted: string[] = [];
    for (let i = 0; i < 5; i++) posted.push((await req('POST', '/events/lift-rides', { json: ride({ wait_minutes: 100 + i }) })).body.trace_id);
    const end = new Date(Date.now() + 1000).toISOString();
    const q = `start_timestamp=${start}&end_timestamp=${end}`;
    const page1 = await req('GET', `/events/lift-rides?${q}&limit=3`);
    assert.equal(page1.status, 200);
    assert.deepEqual(
      page1.body.items.map((e: any) => e.trace_id),
      posted.slice(0, 3),
    );
    assert.equal(typeof page1.body.next_cursor, 'string');
    const page2 = await req('GET', `/events/lift-rides?${q}&limit=3&cursor=${page1.body.next_cursor}`);
    assert.deepEqual(
      page2.body.items.map((e: any) => e.trace_id),
      posted.slice(3),
    );
    assert.equal(page2.body.next_cursor, null);
    const beforeStart = await req(
      'GET',
      `/events/lift-rides?start_timestamp=2000-01-01T00:00:00Z&end_timestamp=${encodeURIComponent(page1.body.items[0].date_created)}`,
    );
    assert.ok(!beforeStart.body.items.some((e: any) => posted.includes(e.trace_id)), 'end is exclusive');

    const last = page2.body.items[1];
    const at = await req('GET', `/events/lift-rides/at/${last.index}`);
    assert.deepEqual([at.status, at.body], [200, last]);
    refused(await req('GET', `/events/lift-rides/at/${last.index + 1}`), 404, 'EVENT_NOT_FOUND');
    refused(await req('GET', '/events/snow-reports/at/999999'), 404, 'EVENT_NOT_FOUND');
    refused(await req('GET', '/events/snow-reports/by-trace/never-sent'), 404, 'EVENT_NOT_FOUND');

    const stats = await req('GET', '/events/stats');
    assert.equal(stats.status, 200);
    assert.equal(stats.body.lift_rides.max_wait_minutes, 104);
    assert.equal(stats.body.lift_rides.last_updated, last.date_created);
    assert.equal(stats.body.last_updated >= last.date_created, true);
    assert.equal(typeof stats.body.snow_reports.avg_depth, 'number');
  });

  it('refuses bad input on every endpoint with a 4xx error body, and stores nothing', async () => {
    const before = await counts();
    const posts: Array<[string, (o?: Record<string, unknown>) => Record<string, unknown>]> = [
      ['/events/snow-reports', snow],
      ['/events/lift-rides', ride],
    ];
    for (const [path, make] of posts) {
      refused(await req('POST', path, { raw: '{"device_id": "x",' }), 400, 'BAD_REQUEST');
      refused(await req('POST', path, { raw: '' }), 400);
      refused(await req('POST', path, { json: [make()] }), 400, 'VALIDATION_ERROR');
      refused(await req('POST', path, { json: 'a string' }), 400, 'VALIDATION_ERROR');
      refused(await req('POST', path, { json: null }), 400);
      refused(await req('POST', path, { json: make({ device_id: 7 }) }), 400, 'VALIDATION_ERROR');
      refused(await req('POST', path, { json: make({ device_id: 'x'.repeat(51) }) }), 400, 'VALIDATION_ERROR');
      refused(await req('POST', path, { json: make({ resort_id: '' }) }), 400, 'VALIDATION_ERROR');
      refused(await req('POST', path, { json: make({ extra: true }) }), 400, 'VALIDATION_ERROR');
      refused(await req('POST', path, { json: make({ timestamp: 'yesterday' }) }), 400, 'VALIDATION_ERROR');
      refused(await req('POST', path, { json: make({ timestamp: '2024-02-30T10:00:00Z' }) }), 400, 'VALIDATION_ERROR');
      refused(await req('POST', path, { json: make({ timestamp: '2024-01-05T08:00:00' }) }), 400, 'VALIDATION_ERROR');
      refused(await req('POST', path, { json: make({ timestamp: 1704441600 }) }), 400, 'VALIDATION_ERROR');
      const { timestamp: _, ...missing } = make();
      const res = await req('POST', path, { json: missing });
      refused(res, 400, 'VALIDATION_ERROR');
      assert.match(res.body.message, /timestamp/, 'the message names the field');
      refused(await req('POST', path, { raw: JSON.stringify(make({ device_id: 'x'.repeat(2 * 1024 * 1024) })) }), 413, 'PAYLOAD_TOO_LARGE');
      refused(await req('POST', path, { json: make(), headers: { 'x-trace-id': 'x'.repeat(101) } }), 400, 'INVALID_TRACE_ID');
      refused(await req('POST', path, { json: make(), headers: { 'x-trace-id': 'has space' } }), 400, 'INVALID_TRACE_ID');
      refused(await req('POST', path, { json: make(), headers: { 'x-trace-id': '' } }), 400, 'INVALID_TRACE_ID');
    }
    for (const bad of [{ depth: '30' }, { depth: -1 }, { depth: 1.5 }, { depth: 2 ** 31 }, { depth: null }]) {
      refused(await req('POST', '/events/snow-reports', { json: snow(bad) }), 400, 'VALIDATION_ERROR');
    }
    for (const bad of [{ wait_minutes: '4' }, { wait_minutes: -2 }, { wait_minutes: 0.5 }, { lift_id: 'x'.repeat(51) }, { lift_id: undefined }]) {
      refused(await req('POST', '/events/lift-rides', { json: ride(bad) }), 400, 'VALIDATION_ERROR');
    }
    refused(await req('POST', '/events/snow-reports', { json: ride() }), 400, 'VALIDATION_ERROR');

    for (const list of ['/events/snow-reports', '/events/lift-rides']) {
      refused(await req('GET', list), 400, 'VALIDATION_ERROR');
      refused(await req('GET', `${list}?start_timestamp=2024-01-01T00:00:00Z`), 400, 'VALIDATION_ERROR');
      refused(await req('GET', `${list}?start_timestamp=nope&end_timestamp=2024-01-01T00:00:00Z`), 400, 'VALIDATION_ERROR');
      refused(await req('GET', `${list}?start_timestamp=2024-02-01T00:00:00Z&end_timestamp=2024-01-01T00:00:00Z`), 400, 'INVALID_RANGE');
      for (const limit of ['0', '1001', 'abc', '2.5', '']) refused(await req('GET', `${list}?${WIDE}&limit=${limit}`), 400, 'VALIDATION_ERROR');
      refused(await req('GET', `${list}?${WIDE}&limit=1&limit=2`), 400, 'VALIDATION_ERROR');
      refused(await req('GET', `${list}?${WIDE}&cursor=garbage`), 400, 'VALIDATION_ERROR');
      refused(await req('GET', `${list}?${WIDE}&unknown=1`), 400, 'VALIDATION_ERROR');
      for (const index of ['-1', 'abc', '1.5', '1e3', '99999999999999999999']) refused(await req('GET', `${list}/at/${index}`), 400, 'VALIDATION_ERROR');
      refused(await req('GET', `${list}/by-trace/${'x'.repeat(101)}`), 400, 'VALIDATION_ERROR');
    }
    const other = await req('GET', `/events/snow-reports?${WIDE}&limit=1`);
    if (other.body.next_cursor) refused(await req('GET', `/events/lift-rides?${WIDE}&cursor=${other.body.next_cursor}`), 400, 'VALIDATION_ERROR');
    refused(await req('DELETE', '/events/snow-reports'), 405);
    assert.deepEqual(await counts(), before, 'no bad request stored anything');
  });

  it('200 concurrent POSTs: all 201, every one stored', async () => {
    const before = await counts();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? req('POST', '/events/snow-reports', { json: snow({ depth: i }) })
          : req('POST', '/events/lift-rides', { json: ride({ wait_minutes: i }) }),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.deepEqual([...new Set(statuses)], [201], `statuses: ${JSON.stringify(results.filter((r) => r.status !== 201).slice(0, 3))}`);
    assert.equal(new Set(results.map((r) => r.body.trace_id)).size, 200);
    assert.deepEqual(await counts(), [before[0] + 100, before[1] + 100]);
    const sample = results[57];
    assert.equal((await req('GET', `/events/lift-rides/by-trace/${sample.body.trace_id}`)).status, 200);
  });

  it('documents its routes in /openapi.json', async () => {
    const doc = await req('GET', '/openapi.json');
    for (const path of ['/events/snow-reports', '/events/lift-rides', '/events/stats']) assert.ok(JSON.stringify(doc.body.paths).includes(path), path);
  });
});

describe('events over HTTP on Postgres', await gate('postgres'), () => {
  it('200 concurrent POSTs through group commit on Postgres: all 201, counted once, readable', async () => {
    const database = await createTestDatabase('cantons_events');
    const pgApp = await startTestApp({ env: { MODULES: 'events', DATABASE_URL: database.url } });
    try {
      const post = (i: number) =>
        fetch(`${pgApp.url}/events/${i % 2 ? 'lift-rides' : 'snow-reports'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-trace-id': `pg-${i % 190}` }, // 10 retries among them
          body: JSON.stringify(i % 2 ? ride({ wait_minutes: i }) : snow({ depth: i })),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => post(i)));
      assert.deepEqual([...new Set(results.map((r) => r.status))], [201]);
      const stats = (await (await fetch(`${pgApp.url}/events/stats`)).json()) as any;
      // pg-0…pg-189: even numbers are snow reports, odd lift rides; i and i+190 share a trace id and a kind.
      assert.deepEqual([stats.snow_reports.count, stats.lift_rides.count], [95, 95]);
      const last = await fetch(`${pgApp.url}/events/lift-rides/at/94`);
      assert.equal(last.status, 200);
      assert.equal((await fetch(`${pgApp.url}/events/lift-rides/at/95`)).status, 404);
      const bad = await fetch(`${pgApp.url}/events/snow-reports?start_timestamp=x&end_timestamp=y`);
      assert.equal(bad.status, 400);
    } finally {
      await pgApp.close();
      await database.drop();
    }
  });
});
