// The events scenario's requests: the JMeter plan's CSV pools and Random functions, one snow report or lift ride each.
import { idPool, type Random } from './random.ts';

const DEVICES = idPool('device', 5000);
const RESORTS = idPool('resort', 60);
const LIFTS = idPool('lift', 25);

export interface IngestRequest {
  path: '/events/snow-reports' | '/events/lift-rides';
  step: 'snow-report' | 'lift-ride';
  body: Record<string, unknown>;
  /** A fresh UUID for X-Trace-Id; cantons answers it back. */
  traceId: string;
}

/** Half snow reports, half lift rides, from a few thousand devices spread over ski resorts. */
export function ingestRequest(r: Random): IngestRequest {
  const traceId = r.uuid();
  const common = { device_id: r.pick(DEVICES), resort_id: r.pick(RESORTS) };
  return r.bool()
    ? { path: '/events/snow-reports', step: 'snow-report', traceId, body: { ...common, depth: r.int(0, 400), timestamp: r.recentIso() } }
    : {
        path: '/events/lift-rides',
        step: 'lift-ride',
        traceId,
        body: { ...common, lift_id: r.pick(LIFTS), wait_minutes: r.int(0, 60), timestamp: r.recentIso() },
      };
}
