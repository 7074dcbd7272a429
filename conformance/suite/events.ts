// The events module's promises through its public API: a 201 only after the commit, the time-range query,
// the stats and the audit by index. Every check posts events of a device id of its own and looks for those.
import { type Answer, call, expect, parallel, unique } from './http.ts';
import type { Check, Deployment, ModuleSuite } from './types.ts';

const snowReport = (device: string, depth: number) => ({ device_id: device, resort_id: `${device}-resort`, depth, timestamp: new Date().toISOString() });
const liftRide = (device: string, wait: number) => ({
  device_id: device,
  resort_id: `${device}-resort`,
  lift_id: 'lift-1',
  wait_minutes: wait,
  timestamp: new Date().toISOString(),
});

const post = (d: Deployment, kind: 'snow-reports' | 'lift-rides', event: object, traceId: string): Promise<Answer> =>
  call(d.gateway, 'POST', `/events/${kind}`, event, { 'x-trace-id': traceId });

const byTrace = (d: Deployment, kind: 'snow-reports' | 'lift-rides', traceId: string): Promise<Answer> =>
  call(d.gateway, 'GET', `/events/${kind}/by-trace/${encodeURIComponent(traceId)}`);

/** Every snow report with start ≤ date_created < end, all pages followed. */
async function snowReportsBetween(d: Deployment, start: string, end: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ start_timestamp: start, end_timestamp: end, limit: '100', ...(cursor && { cursor }) });
    const page = await call(d.gateway, 'GET', `/events/snow-reports?${query}`);
    expect(page.status === 200 && Array.isArray(page.body?.items), 'GET /events/snow-reports?… → 200 {items, next_cursor}', page);
    items.push(...page.body.items);
    cursor = page.body.next_cursor;
  } while (cursor);
  return items;
}

const plusMs = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** Posts `n` snow reports at once for a new device (depth = i) and reads each back: the stored events, by i. */
async function postSnowReports(d: Deployment, n: number): Promise<{ device: string; stored: any[] }> {
  const device = unique('dev');
  const stored = await parallel(n, async (i) => {
    const posted = await post(d, 'snow-reports', snowReport(device, i), `${device}-${i}`);
    expect(posted.status === 201, `POST /events/snow-reports → 201`, posted);
    const read = await byTrace(d, 'snow-reports', `${device}-${i}`);
    expect(read.status === 200, `by-trace of ${device}-${i} → 200`, read);
    return read.body;
  });
  return { device, stored };
}

/** Posts snow report `i` of `device` and reads it back at once; undefined when it was there, else what went wrong. */
async function postThenRead(d: Deployment, device: string, i: number): Promise<string | undefined> {
  const traceId = `${device}-${i}`;
  const posted = await post(d, 'snow-reports', snowReport(device, i), traceId);
  if (posted.status !== 201 || posted.body?.trace_id !== traceId) return `POST ${traceId} → ${posted.status} ${posted.text}`;
  // Right after the 201, with nothing in between: the commit must already be visible.
  const read = await byTrace(d, 'snow-reports', traceId);
  if (read.status !== 200 || read.body?.depth !== i) return `by-trace ${traceId} right after its 201 → ${read.status} ${read.text}`;
  const created = read.body.date_created as string;
  const inRange = await snowReportsBetween(d, created, plusMs(created, 1));
  if (!inRange.some((e) => e.trace_id === traceId)) return `${traceId} not in the range [${created}, +1 ms) right after its 201`;
  return undefined;
}

const readableAfter201: Check = {
  name: '201 only after the commit: each event readable by trace id and in its time range the moment its 201 arrives (10 one by one, 50 at once)',
  async run(d) {
    const device = unique('dev');
    // One at a time the storage is idle, so a read races the commit most closely; at once, commits are batched.
    const problems: Array<string | undefined> = [];
    for (let i = 0; i < 10; i++) problems.push(await postThenRead(d, device, i));
    problems.push(...(await parallel(50, (i) => postThenRead(d, device, 10 + i))));
    const failed = problems.filter((p) => p !== undefined);
    expect(failed.length === 0, 'all 60 events readable right after their 201', `${failed.length} not: ${failed[0]}`);
  },
};

const rangeQuery: Check = {
  name: 'range query: a time range returns exactly the events stored in it, oldest first, as posted',
  async run(d) {
    const { device, stored } = await postSnowReports(d, 12);
    const times = stored.map((e) => e.date_created as string).sort();
    const [first, last] = [times[0], times[times.length - 1]];
    const ours = (items: any[]) => items.filter((e) => e.device_id === device);

    const inside = ours(await snowReportsBetween(d, first, plusMs(last, 1)));
    const expected = [...stored].sort((a, b) => a.date_created.localeCompare(b.date_created) || a.index - b.index);
    expect(
      JSON.stringify(inside.map((e) => e.trace_id)) === JSON.stringify(expected.map((e) => e.trace_id)),
      `the 12 events of ${device}, each once, oldest first`,
      inside.map((e) => e.trace_id),
    );
    const changed = inside.find((e) => e.resort_id !== `${device}-resort` || e.depth !== Number(e.trace_id.split('-').pop()));
    expect(changed === undefined, 'each event as posted', changed);

    const before = ours(await snowReportsBetween(d, plusMs(first, -3_600_000), first));
    expect(before.length === 0, `no event of ${device} before ${first} (the start is inclusive, the end exclusive)`, before);
    const after = ours(await snowReportsBetween(d, plusMs(last, 1), plusMs(last, 3_600_000)));
    expect(after.length === 0, `no event of ${device} after ${last}`, after);
  },
};

const stats: Check = {
  name: 'stats: lift rides counted exactly once each, with their max and total',
  async run(d) {
    // Only this check posts lift rides, so the difference before → after is exactly its own.
    const read = async () => {
      const s = await call(d.gateway, 'GET', '/events/stats');
      expect(s.status === 200 && Number.isInteger(s.body?.lift_rides?.count), 'GET /events/stats → 200 with lift_rides.count', s);
      return s.body.lift_rides as { count: number; max_wait_minutes: number | null; avg_wait_minutes: number | null; last_updated: string | null };
    };
    const before = await read();
    // One wait above every earlier one, so the max must be ours (capped at the column's limit).
    const top = Math.min(Math.max(before.max_wait_minutes ?? 0, 13) + 1, 2_147_483_647);
    const waits = [3, 5, 8, 13, top];
    const device = unique('lift');
    for (const [i, wait] of waits.entries()) {
      const posted = await post(d, 'lift-rides', liftRide(device, wait), `${device}-${i}`);
      expect(posted.status === 201, 'POST /events/lift-rides → 201', posted);
    }
    const after = await read();

    expect(after.count === before.count + waits.length, `lift_rides.count ${before.count} + ${waits.length}`, after.count);
    expect(after.max_wait_minutes === top, `max_wait_minutes ${top}`, after.max_wait_minutes);
    const total = (s: typeof before) => (s.avg_wait_minutes ?? 0) * s.count;
    const added = total(after) - total(before);
    const sum = waits.reduce((a, b) => a + b, 0);
    expect(Math.abs(added - sum) <= Math.max(1e-6, 1e-9 * total(after)), `the total (avg × count) to grow by ${sum}`, added);
    const last = await byTrace(d, 'lift-rides', `${device}-${waits.length - 1}`);
    expect(after.last_updated !== null && after.last_updated >= last.body?.date_created, `last_updated ≥ ${last.body?.date_created}`, after.last_updated);
  },
};

const auditByIndex: Check = {
  name: 'audit: /at/:index returns the very event its index was given to',
  async run(d) {
    const { stored } = await postSnowReports(d, 10);
    expect(
      new Set(stored.map((e) => e.index)).size === stored.length,
      '10 distinct indices',
      stored.map((e) => e.index),
    );
    for (const event of stored) {
      const at = await call(d.gateway, 'GET', `/events/snow-reports/at/${event.index}`);
      expect(at.status === 200 && JSON.stringify(at.body) === JSON.stringify(event), `at/${event.index} → the event ${event.trace_id}`, at);
    }
    const past = await call(d.gateway, 'GET', '/events/snow-reports/at/2000000000');
    expect(past.status === 404 && past.body?.error === 'EVENT_NOT_FOUND', 'an index past the end → 404 EVENT_NOT_FOUND', past);
  },
};

export const events: ModuleSuite = {
  module: 'events',
  checks: [readableAfter201, rangeQuery, stats, auditByIndex],
  async load() {
    const device = unique('load');
    return (i) => ({
      method: 'POST',
      path: '/events/snow-reports',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(snowReport(device, i % 500)),
    });
  },
};
