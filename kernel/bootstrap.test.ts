// The composition root: Postgres schemas per module, readiness while the database is away, graceful drain.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrap } from './bootstrap.ts';
import { demoModule } from './fixtures/demo/index.ts';
import { createLogger } from './logger.ts';
import { listen } from './server.ts';
import { createTestDatabase, freePort, gate, startTestApp, tempDir } from './testing/index.ts';

const pgGate = await gate('postgres');

describe('bootstrap', () => {
  it('keeps /readyz at 503 while Postgres is unreachable, logs each attempt, then fails start-up', async () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (s: string) => void lines.push(s) });
    const port = await freePort();
    const kernel = bootstrap({
      modules: [demoModule],
      log,
      env: { DATA_DIR: tempDir(), DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/x`, DB_CONNECT_ATTEMPTS: '3', DB_CONNECT_BASE_MS: '100' },
    });
    const running = await listen(kernel, 0);
    const starting = kernel.start();
    const ready = await fetch(`http://127.0.0.1:${running.port}/readyz`);
    assert.equal(ready.status, 503);
    const routed = await fetch(`http://127.0.0.1:${running.port}/demo/items/a`);
    assert.equal((await routed.json()).error, 'NOT_READY');
    await assert.rejects(starting, /after 3 attempts/);
    await running.shutdown();
    const attempts = lines.filter((l) => l.includes('postgres connect failed'));
    assert.equal(attempts.length, 2);
    assert.doesNotMatch(lines.join(''), /hunter2/);
  });

  it('gives each module a schema of its own on Postgres', pgGate, async () => {
    const pg = await createTestDatabase();
    try {
      const app = await startTestApp({ modules: [demoModule], env: { DATABASE_URL: pg.url } });
      try {
        assert.equal(
          (await fetch(`${app.url}/demo/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"p","name":"Pg"}' })).status,
          201,
        );
        assert.deepEqual(await (await fetch(`${app.url}/demo/items/p`)).json(), { id: 'p', name: 'Pg' });
        assert.equal(app.kernel.databases.get('demo')?.schema, 'demo');
      } finally {
        await app.close();
      }
    } finally {
      await pg.drop();
    }
  });

  it('finishes in-flight requests on shutdown and refuses new connections', async () => {
    const kernel = bootstrap({ modules: [demoModule], env: { DATA_DIR: tempDir(), LOG_LEVEL: 'silent' } });
    const running = await listen(kernel, 0);
    await kernel.start();
    const url = `http://127.0.0.1:${running.port}`;
    const inflight = fetch(`${url}/demo/slow`);
    await new Promise((r) => setTimeout(r, 50));
    const drained = running.shutdown();
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { done: true });
    assert.equal(await drained, true);
    await assert.rejects(fetch(`${url}/healthz`));
  });
});
