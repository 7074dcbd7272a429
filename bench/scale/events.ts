// Scale, events: N stored events (half snow reports, half lift rides) written straight into events.sqlite, then a
// range query of a fixed 100-event window, stats, audit by index and ingest, each measured on the seeded server.
import { join } from 'node:path';
import { ingestRequest } from '../ingest.ts';
import { check, checkedGet, measure, type BenchIO, type BenchOptions, type CheckResult, type MeasureLoad, type RunRecord } from '../scenario.ts';
import { spawnBaseline, spawnCantons, stopServers, tempDir } from '../servers.ts';
import { events } from '../../modules/events/index.ts';
import { count, fill, migrateModule, openForSeeding, seconds } from './seed.ts';
import type { ScaleSeries } from './series.ts';

/** Seeded events are one second apart, from here on, per kind. */
const EPOCH = Date.parse('2024-01-01T00:00:00.000Z');
export const WINDOW = 100;
const iso = (i: number) => new Date(EPOCH + i * 1000).toISOString();
const pad = (i: number) => String(i).padStart(9, '0');

/** `total` events into a fresh DATA_DIR: ⌈total/2⌉ snow reports and ⌊total/2⌋ lift rides, with their stats rows. */
export async function seedEvents(dataDir: string, total: number, log: (line: string) => void): Promise<number> {
  const file = await migrateModule(events, dataDir);
  const { db, done } = openForSeeding(file);
  const t0 = performance.now();
  try {
    const snow = Math.ceil(total / 2);
    const lift = total - snow;
    const snowInsert = db.prepare(
      'insert into snow_reports (idx, trace_id, device_id, resort_id, depth, timestamp, date_created) values (?, ?, ?, ?, ?, ?, ?)',
    );
    const liftInsert = db.prepare(
      'insert into lift_rides (idx, trace_id, device_id, resort_id, lift_id, wait_minutes, timestamp, date_created) values (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // Trace ids and times rise with idx, so every index is appended to, never split in the middle.
    fill(
      db,
      snow,
      (i) => {
        const at = iso(i);
        snowInsert.run(i, `seed-s-${pad(i)}`, `device-${i % 5000}`, `resort-${i % 60}`, i % 400, at, at);
      },
      log,
      'snow reports',
    );
    fill(
      db,
      lift,
      (i) => {
        const at = iso(i);
        liftInsert.run(i, `seed-l-${pad(i)}`, `device-${i % 5000}`, `resort-${i % 60}`, `lift-${i % 25}`, i % 61, at, at);
      },
      log,
      'lift rides',
    );
    // What the writer keeps beside the rows: the count is also the next idx.
    const sumOf = (n: number, mod: number) => Math.floor(n / mod) * ((mod * (mod - 1)) / 2) + ((n % mod) * ((n % mod) - 1)) / 2;
    const stats = db.prepare('update event_stats set count = ?, total = ?, max_value = ?, last_updated = ? where kind = ?');
    stats.run(snow, sumOf(snow, 400), snow ? Math.min(399, snow - 1) : null, snow ? iso(snow - 1) : null, 'snow_report');
    stats.run(lift, sumOf(lift, 61), lift ? Math.min(60, lift - 1) : null, lift ? iso(lift - 1) : null, 'lift_ride');
  } finally {
    done();
  }
  return (performance.now() - t0) / 1000;
}

export async function scaleEvents(
  sizes: number[],
  series: ScaleSeries,
  opts: BenchOptions,
  io: BenchIO,
): Promise<{ runs: RunRecord[]; checks: CheckResult[] }> {
  const runs: RunRecord[] = [];
  const checks: CheckResult[] = [];
  for (const size of sizes) {
    const dataDir = tempDir('cantons-scale-events-');
    io.log(`events, ${count(size)} stored: seeding …`);
    const took = await seedEvents(dataDir, size, io.log);
    io.log(`events, ${count(size)} stored: seeded in ${seconds(took)} (${count(Math.round(size / took))} rows/s); starting the server …`);
    const server = await spawnCantons({ MODULES: 'events', DATA_DIR: dataDir }, { name: 'cantons events', readyTimeoutMs: 120_000 });
    try {
      const snow = Math.ceil(size / 2);
      // The same 100 snow reports' worth of time in the middle of what is stored, at every size.
      const first = Math.max(0, Math.floor(snow / 2) - WINDOW / 2);
      const range = `start_timestamp=${iso(first)}&end_timestamp=${iso(first + WINDOW)}&limit=${WINDOW}`;
      const stats = await fetch(`${server.url}/events/stats`).then((r) => r.json() as Promise<any>);
      checks.push(check(`events ${count(size)}: seeded and counted`, stats.snow_reports.count + stats.lift_rides.count === size, JSON.stringify(stats)));
      const parts: Array<[string, MeasureLoad]> = [
        [
          'range query',
          checkedGet(
            () => `/events/snow-reports?${range}`,
            'GET /events/snow-reports?window',
            (b) => b?.items?.length === Math.min(WINDOW, snow),
          ),
        ],
        [
          'stats',
          checkedGet(
            () => '/events/stats',
            'GET /events/stats',
            (b) => b?.snow_reports?.count >= snow,
          ),
        ],
        [
          'audit by index',
          checkedGet(
            (vu) => `/events/snow-reports/at/${vu.random.int(0, snow - 1)}`,
            'GET /events/snow-reports/at/:index',
            (b) => typeof b?.index === 'number',
          ),
        ],
        ['ingest', ingest],
      ];
      for (const [name, load] of parts) {
        const run = await measure(`events ${name}, ${count(size)} stored`, [server], load, opts, io);
        runs.push(run);
        series.addRun('events', name, 'events', size, run);
        checks.push(check(`${run.label}: no errors`, run.errors.total === 0, `${run.errors.total} of ${run.requests}`));
      }
    } finally {
      await stopServers(server);
    }
    // The durability floor (bench/baselines/koa-baseline.ts group-commit) over as many stored rows, with the same
    // random client trace ids: what a growing unique index costs any durable handler, not only ours.
    const floorDir = tempDir('cantons-scale-floor-');
    seedFloor(floorDir, size, io.log);
    const floor = await spawnBaseline('group-commit', { dataDir: floorDir });
    try {
      const run = await measure(`events ingest floor, ${count(size)} stored`, [floor], ingest, opts, io);
      runs.push(run);
      series.addRun('events', 'ingest floor', 'events', size, run);
      checks.push(check(`${run.label}: no errors`, run.errors.total === 0, `${run.errors.total} of ${run.requests}`));
    } finally {
      await stopServers(floor);
    }
  }
  return { runs, checks };
}

const ingest: MeasureLoad = {
  step: async (vu) => {
    const q = ingestRequest(vu.random);
    await vu.client.post(q.path, q.body, { step: q.step, headers: { 'x-trace-id': q.traceId }, expect: 201 });
  },
};

/** The floor's table (as koa-baseline.ts creates it) with `total` rows, trace ids rising as in seedEvents. */
function seedFloor(dataDir: string, total: number, log: (line: string) => void): void {
  const { db, done } = openForSeeding(join(dataDir, 'baseline.sqlite'));
  try {
    db.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, trace_id TEXT UNIQUE, path TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO events (trace_id, path, body, received_at) VALUES (?, ?, ?, ?)');
    const body = JSON.stringify({ device_id: 'device-1', resort_id: 'resort-1', depth: 10, timestamp: iso(0) });
    fill(db, total, (i) => insert.run(`seed-${pad(i)}`, '/events/snow-reports', body, iso(i)), log, 'floor rows');
  } finally {
    done();
  }
}
