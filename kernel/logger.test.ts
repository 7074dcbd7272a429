// Log formats: JSON lines for collectors, pino-pretty's lines for people, secrets redacted in both.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createLogger, type LogFormat } from './logger.ts';

/** A logger in `format` writing into a string, after logging what a careless caller might. */
async function logged(format: LogFormat): Promise<string> {
  let out = '';
  const sink = new Writable({
    write: (chunk, _enc, done) => {
      out += chunk;
      done();
    },
  });
  const log = createLogger('info', sink, format);
  log.info(
    { password: 'hunter2-secret', config: { DATABASE_URL: 'postgres://u:pw-secret@db/x' }, orderId: 7 },
    'connect failed: redis://:url-secret@cache:6379',
  );
  log.error({ err: Object.assign(new Error('AUTH refused'), { command: { name: 'auth', args: ['args-secret'] } }) }, 'redis down');
  await tick(); // the pretty stream passes lines on asynchronously within this thread
  return out;
}

describe('log formats', () => {
  for (const format of ['json', 'pretty'] as const) {
    it(`redacts secrets in ${format} lines`, async () => {
      const out = await logged(format);
      for (const secret of ['hunter2-secret', 'pw-secret', 'url-secret', 'args-secret']) assert.ok(!out.includes(secret), `${secret} in ${out}`);
      assert.match(out, /\[redacted\]/);
      assert.match(out, /redis:\/\/:\*\*\*@cache:6379/);
    });
  }

  it('writes JSON lines by default and for auto into a given destination', async () => {
    for (const out of [await logged('json'), await logged('auto')]) {
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        lines.map((l) => [l.level, l.msg, l.orderId]),
        [
          [30, 'connect failed: redis://:***@cache:6379', 7],
          [50, 'redis down', undefined],
        ],
      );
    }
  });

  it('writes pretty lines for a person: level name and message on one line, fields below', async () => {
    const out = await logged('pretty');
    assert.throws(() => JSON.parse(out.split('\n')[0]));
    assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: connect failed: redis:\/\/:\*\*\*@cache:6379\n {4}password: "\[redacted\]"/);
    assert.match(out, /\n {4}orderId: 7\n/);
    assert.match(out, /ERROR: redis down\n {4}err: \{/);
  });
});
