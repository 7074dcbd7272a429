// `npm run smoke -- events [base-url]`: post one event of each kind, read it back by trace id and index, check stats.
import { randomUUID } from 'node:crypto';
import { check, fetchAnswer } from '../../kernel/smoke.ts';
import { KIND_PATHS, type EventKind } from './contract.ts';

const call = fetchAnswer;
const expect = (ok: boolean, what: string, got: unknown) => check('events', ok, what, got);

export async function smokeEvents(baseUrl: string, print: (line: string) => void): Promise<void> {
  const now = new Date().toISOString();
  const samples: Record<EventKind, object> = {
    snow_report: { device_id: 'smoke-device', resort_id: 'smoke-resort', depth: 42, timestamp: now },
    lift_ride: { device_id: 'smoke-device', resort_id: 'smoke-resort', lift_id: 'smoke-lift', wait_minutes: 3, timestamp: now },
  };
  for (const kind of Object.keys(samples) as EventKind[]) {
    const base = `${baseUrl}/events/${KIND_PATHS[kind]}`;
    const traceId = `smoke-${randomUUID()}`;
    const posted = await call(base, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trace-id': traceId },
      body: JSON.stringify(samples[kind]),
    });
    expect(posted.status === 201 && posted.body?.trace_id === traceId, `POST ${base} should answer 201 with our trace id`, posted);
    print(`POST /events/${KIND_PATHS[kind]} → 201 trace_id=${traceId}`);

    const byTrace = await call(`${base}/by-trace/${encodeURIComponent(traceId)}`);
    expect(byTrace.status === 200 && byTrace.body?.trace_id === traceId, 'by-trace should find the event', byTrace);
    const index = byTrace.body.index as number;
    print(`GET /events/${KIND_PATHS[kind]}/by-trace/… → 200 index=${index} date_created=${byTrace.body.date_created}`);

    const at = await call(`${base}/at/${index}`);
    expect(at.status === 200 && at.body?.trace_id === traceId, `at/${index} should be the same event`, at);
    print(`GET /events/${KIND_PATHS[kind]}/at/${index} → 200 same event`);
  }
  const stats = await call(`${baseUrl}/events/stats`);
  expect(
    stats.status === 200 && stats.body?.snow_reports?.count >= 1 && stats.body?.lift_rides?.count >= 1 && stats.body?.snow_reports?.max_depth >= 42,
    'stats should count both events',
    stats,
  );
  print(`GET /events/stats → 200 snow_reports=${stats.body.snow_reports.count} lift_rides=${stats.body.lift_rides.count}`);
}
