// kill -9 mid-load, restart on the same DATA_DIR: every event answered 201 must be there, and the stats must agree.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { spawnApp, tempDir, type SpawnedApp } from '../../kernel/testing/index.ts';

const started: SpawnedApp[] = [];
after(() => Promise.all(started.map((a) => a.kill())));

const event = (i: number) =>
  i % 2 === 0
    ? { path: '/events/snow-reports', kind: 'snow-reports', body: { device_id: `d${i}`, resort_id: 'r', depth: i % 300, timestamp: '2024-02-01T12:00:00Z' } }
    : {
        path: '/events/lift-rides',
        kind: 'lift-rides',
        body: { device_id: `d${i}`, resort_id: 'r', lift_id: 'L', wait_minutes: i % 40, timestamp: '2024-02-01T12:00:00Z' },
      };

const KILL_AFTER = 600;

describe('events durability', () => {
  for (const writer of ['thread', 'inline']) {
    it(`every 201 survives SIGKILL under concurrent load (EVENTS_SQLITE_WRITER=${writer})`, async () => {
      const dataDir = tempDir('cantons-events-kill-');
      const app = await spawnApp({ MODULES: 'events', DATA_DIR: dataDir, EVENTS_SQLITE_WRITER: writer });
      started.push(app);

      const acked: Array<{ trace: string; kind: string }> = [];
      let failed = 0;
      let next = 0;
      let stop = false;
      const worker = async (w: number) => {
        while (!stop) {
          const i = next++;
          const e = event(i);
          const trace = `kill-${w}-${i}`;
          try {
            const res = await fetch(app.url + e.path, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-trace-id': trace },
              body: JSON.stringify(e.body),
            });
            await res.arrayBuffer();
            if (res.status === 201) {
              acked.push({ trace, kind: e.kind });
              // Killed the moment an answer arrives: any event acknowledged before its commit would be lost.
              if (acked.length === KILL_AFTER) app.proc.kill('SIGKILL');
            } else failed++;
          } catch {
            failed++; // the process died under this request: it may or may not have committed
            stop = true;
            return;
          }
        }
      };
      const load = Promise.all(Array.from({ length: 100 }, (_, w) => worker(w)));
      await load;
      stop = true;
      await app.kill('SIGKILL');
      assert.ok(failed > 0, 'the kill landed while requests were in flight');

      const again = await spawnApp({ MODULES: 'events', DATA_DIR: dataDir, EVENTS_SQLITE_WRITER: writer });
      started.push(again);
      const missing: string[] = [];
      for (let i = 0; i < acked.length; i += 25) {
        await Promise.all(
          acked.slice(i, i + 25).map(async ({ trace, kind }) => {
            const res = await fetch(`${again.url}/events/${kind}/by-trace/${trace}`);
            await res.arrayBuffer();
            if (res.status !== 200) missing.push(`${kind} ${trace}: ${res.status}`);
          }),
        );
      }
      assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged events were lost`);

      // The stats were committed with the rows: count == number of rows, and the index is dense.
      const stats = (await (await fetch(`${again.url}/events/stats`)).json()) as any;
      for (const [kind, count] of [
        ['snow-reports', stats.snow_reports.count],
        ['lift-rides', stats.lift_rides.count],
      ] as const) {
        const ackedHere = acked.filter((a) => a.kind === kind).length;
        assert.ok(count >= ackedHere, `${kind}: stats count ${count} < ${ackedHere} acknowledged`);
        assert.equal((await fetch(`${again.url}/events/${kind}/at/${count - 1}`)).status, 200, `${kind}: the last counted index exists`);
        assert.equal((await fetch(`${again.url}/events/${kind}/at/${count}`)).status, 404, `${kind}: no row beyond the count`);
        const listed = (await (
          await fetch(`${again.url}/events/${kind}?start_timestamp=2000-01-01T00:00:00Z&end_timestamp=2999-01-01T00:00:00Z&limit=1000`)
        ).json()) as any;
        if (count <= 1000) assert.equal(listed.items.length, count, `${kind}: rows == stats count`);
      }
      assert.equal(await again.stop(), 0);
    });
  }
});
