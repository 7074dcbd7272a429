// The target password at rest: sealed with AES-256-GCM while the benchmark runs, erased at its end, and never in plain
// text in a database file, an outbox row, a report or a log line (grepped, on SQLite and on Postgres).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../kernel/logger.ts';
import { ENGINES, gate, tempDir } from '../../kernel/testing/index.ts';
import { KEY_FILE, loadKey, secretBox } from './api/secrets.ts';
import { PASSWORD, startBenchmarkApp, startBody, waitForEnd } from './testing/support.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** A logger at trace level into a string, so every line any role writes can be grepped. */
function capturedLog() {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      text += chunk;
      done();
    },
  });
  return { log: createLogger('trace', sink), text: () => text };
}

const gates = new Map(await Promise.all(ENGINES.map(async (e) => [e, await gate(...e.needs)] as const)));

describe('benchmark secrets', () => {
  it('seal/open round-trips, binds the ciphertext to its benchmark, and the key file is made once with mode 0600', () => {
    const dir = tempDir();
    const key = loadKey(undefined, dir);
    assert.deepEqual(loadKey(undefined, dir), key, 'the second start reads the same key');
    assert.equal(statSync(join(dir, KEY_FILE)).mode & 0o777, 0o600);
    const box = secretBox(key);
    const sealed = box.seal(PASSWORD, 'benchmark-a');
    assert.match(sealed, /^v1\./);
    assert.ok(!sealed.includes(PASSWORD));
    assert.equal(box.open(sealed, 'benchmark-a'), PASSWORD);
    assert.throws(() => box.open(sealed, 'benchmark-b'), 'another row cannot use it');
    assert.throws(() => secretBox(loadKey('ab'.repeat(32), dir)).open(sealed, 'benchmark-a'), 'another key cannot open it');
  });

  for (const engine of ENGINES) {
    describe(engine.name, gates.get(engine)!, () => {
      it('the password is sealed while running, erased at the end, and in no file, row or log line', async () => {
        const database = await engine.prepare('benchmark_secrets');
        const captured = capturedLog();
        const app = await startBenchmarkApp({ LOG_LEVEL: 'trace', BENCHMARK_TARGET_DELAY_MS: '300', ...database.env }, { log: captured.log });
        const db = app.kernel.databases.get('benchmark')!.db;
        try {
          const started = await app.api('POST', '/api/v1/benchmarks/start', startBody(`${app.url}/target`));
          const id = started.body.benchmark_id;
          const running = await db.selectFrom('benchmarks').select('password_enc').where('id', '=', id).executeTakeFirstOrThrow();
          assert.match(running.password_enc, /^v1\./, 'sealed at rest while the benchmark runs');
          const midRun = async () => {
            for (const table of ['benchmarks', 'outbox'])
              assert.ok(!JSON.stringify(await db.selectFrom(table).selectAll().execute()).includes(PASSWORD), `${table} holds the password mid-run`);
            for (const file of filesUnder(app.dataDir)) assert.ok(!readFileSync(file).includes(PASSWORD), `${file} holds the password mid-run`);
          };
          await midRun();
          assert.equal((await waitForEnd(app.api, id)).status, 'completed');
          const ended = await db.selectFrom('benchmarks').select('password_enc').where('id', '=', id).executeTakeFirstOrThrow();
          assert.equal(ended.password_enc, null, 'erased when the benchmark ended');

          // Every row of every table of the module (outbox, inbox and dead letters included).
          for (const table of ['benchmarks', 'documents', 'reports', 'notifications', 'outbox', 'inbox', 'dead_letters']) {
            const rows = await db.selectFrom(table).selectAll().execute();
            assert.ok(!JSON.stringify(rows).includes(PASSWORD), `${table} holds the password`);
          }
          assert.ok(captured.text().length > 0, 'the log was captured');
          assert.ok(!captured.text().includes(PASSWORD), 'a log line holds the password');
        } finally {
          await app.close();
          await database.cleanup();
        }
        // After close: the SQLite file, its WAL and the report files.
        const files = filesUnder(app.dataDir);
        if (engine.name === 'SQLite')
          assert.ok(
            files.some((f) => f.endsWith('benchmark.sqlite')),
            files.join(', '),
          );
        for (const file of files) assert.ok(!readFileSync(file).includes(PASSWORD), `${file} holds the password`);
      });
    });
  }
});
