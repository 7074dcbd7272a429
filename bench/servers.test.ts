// Baselines and the app as child processes: they answer, the durable baseline keeps every row, stop exits cleanly.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createTestDatabase, gate } from '../kernel/testing/index.ts';
import { createClient, runLoad } from './load.ts';
import { status } from '@grpc/grpc-js';
import { makeCertificates } from '../kernel/testing/certificates.ts';
import { threadsClient, unary } from './grpc-load.ts';
import { freePort, spawnBaseline, spawnCantons } from './servers.ts';

test('noop-post answers 201 {"ok":true} to any JSON POST, 400 to a broken body', async () => {
  const s = await spawnBaseline('noop-post');
  try {
    const c = createClient(s.url);
    const r = await c.post('/events/snow-reports', { depth: 3 });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body, { ok: true });
    const bad = await fetch(`${s.url}/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error, 'BAD_REQUEST');
    assert.ok(s.cpuMs() === null || s.cpuMs()! >= 0);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

for (const kind of ['durable-insert', 'group-commit'] as const) {
  test(`${kind} stores exactly one row per acknowledged POST, in WAL mode, surviving the process`, async () => {
    const s = await spawnBaseline(kind);
    let stopped = false;
    try {
      const r = await runLoad({
        url: s.url,
        connections: 5,
        iterations: 60,
        progress: false,
        step: async (vu) => {
          await vu.client.post('/events/lift-rides', { n: vu.iteration }, { headers: { 'x-trace-id': vu.random.uuid() } });
        },
      });
      assert.equal(r.ok, 60);
      const count = await createClient(s.url).get('/_baseline/count');
      assert.deepEqual(count.body, { rows: 60 });
      assert.equal(await s.stop(), 0);
      stopped = true;
      const file = join(s.dataDir, 'baseline.sqlite');
      assert.ok(existsSync(file));
      const db = new Database(file, { readonly: true });
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM events WHERE trace_id IS NOT NULL').get() as { n: number }).n, 60);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.close();
    } finally {
      if (!stopped) await s.kill();
    }
  });
}

test('callback-floor matches a seeded document, writes each time once and answers 202 after the commit, 409 when nothing matches', async () => {
  const s = await spawnBaseline('callback-floor', { benchmarks: 3 });
  let stopped = false;
  try {
    const c = createClient(s.url);
    const send = (name: string, project: string, start: number | null, end: number | null, expect: number) =>
      c.post(
        '/api/v1/benchmarks/documents/',
        { document_name: name, eigen_project_id: project, benchmark_host_name: 'floor', start_time: start, end_time: end },
        { expect },
      );
    await send('doc0007.txt', 'p2', 10, null, 202);
    await send('doc0007.txt', 'p2', 99, 12, 202);
    await send('doc0007.txt', 'p3', 10, null, 409);
    await send('doc9999.txt', 'p0', 10, null, 409);
    assert.equal(await s.stop(), 0);
    stopped = true;
    const db = new Database(join(s.dataDir, 'baseline.sqlite'), { readonly: true });
    assert.deepEqual(db.prepare("SELECT start_time, end_time FROM documents WHERE benchmark_id = 'b2' AND name = 'doc0007.txt'").get(), {
      start_time: 10,
      end_time: 12,
    });
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM documents WHERE start_time IS NOT NULL').get() as { n: number }).n, 1);
    db.close();
  } finally {
    if (!stopped) await s.kill();
  }
});

test('the proposal floors, on SQLite and on Postgres, leave the same rows a proposal leaves; 409 on a taken name, 400 on a bad body', async (t) => {
  const proposal = { project_name: 'floor', tagline: 't', tags: ['x', 'y', 'x'], problems: ['p1', 'p2'], solutions: ['s'] };
  const rowsOf = async (query: (sql: string) => Promise<unknown[]>) => ({
    tags: await query('SELECT project_id, tag FROM tags ORDER BY tag'),
    threads: await query('SELECT project_id, thread_type, message FROM threads ORDER BY id'),
  });
  const expected = {
    tags: [
      { project_id: 1, tag: 'x' },
      { project_id: 1, tag: 'y' },
    ],
    threads: [
      { project_id: 1, thread_type: 'problem', message: 'p1' },
      { project_id: 1, thread_type: 'problem', message: 'p2' },
      { project_id: 1, thread_type: 'solution', message: 's' },
    ],
  };
  const exercise = async (s: Awaited<ReturnType<typeof spawnBaseline>>) => {
    const c = createClient(s.url);
    assert.deepEqual((await c.post('/projects/propose', proposal, { expect: 200 })).body, { project_id: 1 });
    assert.equal((await c.post('/projects/propose', proposal, { expect: 409 })).body.error, 'PROJECT_NAME_TAKEN');
    assert.equal((await c.post('/projects/propose', { project_name: 1 }, { expect: 400 })).body.error, 'VALIDATION_ERROR');
  };

  const lite = await spawnBaseline('proposal-floor');
  try {
    await exercise(lite);
  } finally {
    await lite.stop();
  }
  const file = new Database(join(lite.dataDir, 'floor.sqlite'), { readonly: true });
  assert.deepEqual(await rowsOf(async (q) => file.prepare(q).all()), expected, 'the SQLite floor');
  file.close();

  if ((await gate('postgres')).skip) return t.skip('no Postgres');
  const database = await createTestDatabase('proposal_floor');
  const client = new pg.Client({ connectionString: database.url });
  try {
    const s = await spawnBaseline('proposal-pg-floor', { env: { DATABASE_URL: database.url } });
    try {
      await exercise(s);
    } finally {
      await s.stop();
    }
    await client.connect();
    assert.deepEqual(await rowsOf(async (q) => (await client.query(q)).rows), expected, 'the Postgres floor');
  } finally {
    await client.end();
    await database.drop();
  }
});

test('the vote floor counts each vote once over gRPC with TLS, answers the counts after the commit; NOT_FOUND and INVALID_ARGUMENT as the app', async () => {
  const certs = makeCertificates();
  const grpcPort = await freePort();
  const s = await spawnBaseline('vote-floor', {
    env: { GRPC_PORT: String(grpcPort), GRPC_TLS_CERT_FILE: certs.serverCert, GRPC_TLS_KEY_FILE: certs.serverKey, FLOOR_THREADS: '2' },
  });
  const client = threadsClient(grpcPort, certs.ca);
  let stopped = false;
  try {
    const vote = (thread_id: number, direction: string) => unary(client, 'Vote', { thread_id, direction });
    const answers = await Promise.all([vote(2, 'UP'), vote(2, 'UP'), vote(2, 'DOWN')]);
    assert.deepEqual(answers.map((a) => a.up_votes + a.down_votes).sort(), [1, 2, 3], 'each answer counts the votes up to its own');
    await assert.rejects(vote(3, 'UP'), (err: { code: number }) => err.code === status.NOT_FOUND);
    await assert.rejects(vote(1, 'SIDEWAYS'), (err: { code: number }) => err.code === status.INVALID_ARGUMENT);
    assert.equal(await s.stop(), 0);
    stopped = true;
    const db = new Database(join(s.dataDir, 'floor.sqlite'), { readonly: true });
    assert.deepEqual(db.prepare('SELECT id, up_votes, down_votes FROM threads ORDER BY id').all(), [
      { id: 1, up_votes: 0, down_votes: 0 },
      { id: 2, up_votes: 2, down_votes: 1 },
    ]);
    db.close();
  } finally {
    client.close();
    if (!stopped) await s.kill();
  }
});

test('constant-get answers the configured body and status', async () => {
  const s = await spawnBaseline('constant-get', { body: { key: 'k', value: 'v'.repeat(100) } });
  try {
    const r = await createClient(s.url).get('/cache/k');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { key: 'k', value: 'v'.repeat(100) });
  } finally {
    await s.stop();
  }
});

test('spawnCantons runs the real app until /readyz is 200 and stops it on SIGTERM', async () => {
  const app = await spawnCantons({});
  try {
    const r = await createClient(app.url).get('/readyz');
    assert.equal(r.status, 200);
    assert.ok(app.pid > 0);
  } finally {
    assert.equal(await app.stop(), 0);
  }
});
