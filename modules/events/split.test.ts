// Receiver and storage as two real processes over HTTP: post through one, read through the other, storage down → 503.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { spawnApp, tempDir, type SpawnedApp } from '../../kernel/testing/index.ts';

const started: SpawnedApp[] = [];
after(() => Promise.all(started.map((a) => a.kill())));

async function spawn(env: Record<string, string>): Promise<SpawnedApp> {
  const app = await spawnApp(env);
  started.push(app);
  return app;
}

async function post(url: string, path: string, body: unknown, traceId?: string) {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(traceId ? { 'x-trace-id': traceId } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as any };
};

const snow = (depth: number) => ({ device_id: 'd', resort_id: 'r', depth, timestamp: '2024-03-01T07:00:00Z' });
const ride = { device_id: 'd', resort_id: 'r', lift_id: 'chair-2', wait_minutes: 6, timestamp: '2024-03-01T07:00:00Z' };

describe('events split across two processes', () => {
  it('posts through the receiver, reads through the storage, 503 while storage is down, nothing half-stored', async () => {
    const storageDir = tempDir('cantons-events-storage-');
    let storage = await spawn({ MODULES: 'events.storage', DATA_DIR: storageDir });
    const receiver = await spawn({ MODULES: 'events.receiver', EVENTS_STORAGE_URL: storage.url, RPC_TIMEOUT_MS: '2000', RPC_RETRIES: '2' });

    const a = await post(receiver.url, '/events/snow-reports', snow(80), 'split-a');
    assert.deepEqual(a, { status: 201, body: { trace_id: 'split-a' } });
    const b = await post(receiver.url, '/events/lift-rides', ride);
    assert.equal(b.status, 201);
    const again = await post(receiver.url, '/events/snow-reports', snow(81), 'split-a');
    assert.deepEqual(again, a, 'a retry through the receiver is stored once');

    const readA = await get(`${storage.url}/events/snow-reports/by-trace/split-a`);
    assert.equal(readA.status, 200);
    assert.equal(readA.body.depth, 80);
    assert.equal((await get(`${storage.url}/events/lift-rides/at/0`)).body.trace_id, b.body.trace_id);
    const stats = await get(`${storage.url}/events/stats`);
    assert.deepEqual([stats.body.snow_reports.count, stats.body.lift_rides.count], [1, 1]);

    // Validation happens in the receiver; the storage never sees bad input.
    const bad = await post(receiver.url, '/events/snow-reports', { ...snow(1), depth: -5 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'VALIDATION_ERROR');
    // Reads live with the storage role only.
    assert.equal((await get(`${receiver.url}/events/stats`)).status, 404);

    assert.equal(await storage.stop(), 0, 'storage drains and exits cleanly');
    const down = await post(receiver.url, '/events/snow-reports', snow(90), 'split-while-down');
    assert.equal(down.status, 503);
    assert.equal(down.body.error, 'ROLE_UNAVAILABLE');
    assert.match(down.body.message, /events\.storage/);
    assert.deepEqual(Object.keys(down.body).sort(), ['error', 'message']);

    // Back on the same data: exactly what was acknowledged, nothing from the failed request.
    storage = await spawn({ MODULES: 'events.storage', DATA_DIR: storageDir, PORT: String(storage.port) });
    const after = await get(`${storage.url}/events/stats`);
    assert.deepEqual([after.body.snow_reports.count, after.body.lift_rides.count], [1, 1]);
    assert.equal((await get(`${storage.url}/events/snow-reports/by-trace/split-while-down`)).status, 404);
    const recovered = await post(receiver.url, '/events/snow-reports', snow(95), 'split-after');
    assert.equal(recovered.status, 201, 'the receiver reaches the storage again without a restart');
    assert.equal((await get(`${storage.url}/events/snow-reports/at/1`)).body.trace_id, 'split-after');
  });
});
