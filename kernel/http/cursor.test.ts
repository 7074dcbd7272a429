// The shared page cursor: what encodeCursor hands out comes back through cursorField, and nothing else does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { CURSOR_MAX_LENGTH, cursorField, encodeCursor, NOT_A_CURSOR } from './cursor.ts';
import { validate } from './route.ts';

const position = z.tuple([z.literal('snow_report'), z.string(), z.int().min(0)]);
const query = z.object({ cursor: cursorField(position) });
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** What route validation answers for `?cursor=<raw>`: the decoded value, or the error's status, code and details. */
function check(raw: unknown) {
  try {
    return { value: validate(query, { cursor: raw }, 'query').cursor };
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    return { status: err.status, code: err.code, details: err.details };
  }
}

const REFUSED = { status: 400, code: 'VALIDATION_ERROR', details: [{ field: 'cursor', message: NOT_A_CURSOR }] };

describe('page cursors', () => {
  it('round-trips any JSON value the schema accepts', () => {
    const value = ['snow_report', '2024-01-31T09:05:00.123Z', 41];
    const cursor = encodeCursor(value);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(check(cursor), { value });
    for (const v of ['a/b/ü', 12, 'p-1', { a: [1, null] }, '\u{1F600}']) {
      assert.deepEqual(z.object({ c: cursorField(z.unknown()) }).parse({ c: encodeCursor(v) }).c, v);
    }
  });

  it('is optional: no cursor is the first page', () => {
    assert.deepEqual(check(undefined), { value: undefined });
  });

  it('refuses garbage, other alphabets, non-JSON and wrong shapes with VALIDATION_ERROR naming cursor', () => {
    const good = encodeCursor(['snow_report', '2024-01-31T09:05:00.123Z', 1]);
    const bad: Record<string, unknown> = {
      empty: '',
      garbage: 'not a cursor!',
      'punctuation only': '!!!',
      'standard base64 (+ and /)': Buffer.from('["snow_report","?>?>",1]').toString('base64'),
      'padded base64url': `${b64('1')}==`,
      'valid base64url of non-JSON': b64('abc'),
      'base64url of broken UTF-8': Buffer.from([0x22, 0xff, 0x22]).toString('base64url'),
      'JSON of the wrong kind': encodeCursor(['lift_ride', '2024-01-31T09:05:00.123Z', 1]),
      'JSON of the wrong length': encodeCursor(['snow_report', '2024-01-31T09:05:00.123Z']),
      'JSON with a negative index': encodeCursor(['snow_report', '2024-01-31T09:05:00.123Z', -1]),
      'JSON that is an object': encodeCursor({ kind: 'snow_report' }),
      'the same JSON with spaces': b64('[ "snow_report", "2024-01-31T09:05:00.123Z", 1 ]'),
      'the same JSON with an escape': b64('["snow_\\u0072eport","2024-01-31T09:05:00.123Z",1]'),
      'non-zero trailing bits': `${good.slice(0, -1)}${String.fromCharCode(good.charCodeAt(good.length - 1) + 1)}`,
      'a good cursor with a suffix': `${good}A`,
      'repeated query parameter': [good, good],
      overlong: 'A'.repeat(CURSOR_MAX_LENGTH + 1),
      'overlong but well-formed': encodeCursor(['snow_report', 'x'.repeat(CURSOR_MAX_LENGTH), 1]),
    };
    for (const [name, raw] of Object.entries(bad)) assert.deepEqual(check(raw), REFUSED, name);
  });

  it('accepts the longest cursor allowed and no longer', () => {
    const field = z.object({ c: cursorField(z.string()) });
    const pad = (n: number) => encodeCursor('x'.repeat(n));
    let n = 0;
    while (pad(n + 1).length <= CURSOR_MAX_LENGTH) n++;
    assert.equal(field.parse({ c: pad(n) }).c, 'x'.repeat(n));
    assert.equal(field.safeParse({ c: pad(n + 1) }).success, false);
  });
});
