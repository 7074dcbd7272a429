// Key decoding and validation, and the list cursor.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { AppError } from '../../../kernel/errors.ts';
import { cursorField, encodeCursor } from '../../../kernel/http/cursor.ts';
import { validate } from '../../../kernel/http/route.ts';
import { compareKeys, keyFromPath, keyProblem, keySchema, keyToPath } from './keys.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? `${err.status} ${err.code}` : String(err);
  }
  return 'no error';
};

test('keys come from the raw path, percent-decoded; "/" is allowed inside', () => {
  assert.equal(keyFromPath('/config/a'), 'a');
  assert.equal(keyFromPath('/config/team/db/url'), 'team/db/url');
  assert.equal(keyFromPath('/config/a%2Fb'), 'a/b');
  assert.equal(keyFromPath('/config/caf%C3%A9%20au%20lait'), 'café au lait');
  assert.equal(keyFromPath('/config/100%25'), '100%');
  assert.equal(keyFromPath(`/config/${keyToPath('we?ird#key/ü')}`), 'we?ird#key/ü');
});

test('bad keys are 400 INVALID_KEY', () => {
  for (const path of [
    '/config/',
    '/config/a//b',
    '/config/a/',
    '/config//a',
    '/config/a%2F',
    '/config/%zz',
    '/config/%C3',
    '/config/a%00b',
    '/config/tab%09',
    '/config/del%7F',
    '/config/c1%C2%85',
    '/config/a/../b',
    '/config/./a',
    `/config/${'k'.repeat(513)}`,
    `/config/${'é'.repeat(257)}`,
  ]) {
    assert.equal(
      code(() => keyFromPath(path)),
      '400 INVALID_KEY',
      path,
    );
  }
  assert.equal(
    code(() => keyFromPath(`/config/${'k'.repeat(512)}`)),
    'no error',
  );
  assert.equal(keyProblem('a.b/..c'), undefined);
});

test('cursors round-trip and reject anything else', () => {
  // As GET /config reads its cursor.
  const query = z.object({ cursor: cursorField(keySchema) });
  const decodeCursor = (cursor: string) => validate(query, { cursor }, 'query').cursor;
  assert.equal(decodeCursor(encodeCursor('a/b/ü')), 'a/b/ü');
  // The longest cursor: every character of a 512-byte key escaped in JSON.
  const escaped = '"\\'.repeat(256);
  assert.equal(decodeCursor(encodeCursor(escaped)), escaped);
  for (const bad of ['', '!!!', encodeCursor('a//b'), encodeCursor(''), encodeCursor(['a']), Buffer.from('a/b').toString('base64url'), 'YQ==']) {
    assert.equal(
      code(() => decodeCursor(bad)),
      '400 VALIDATION_ERROR',
      bad,
    );
  }
});

test('keys sort by UTF-8 bytes, as etcd lists them', () => {
  const keys = ['b', 'a/z', 'é', 'a', 'Z', '\u{1F600}', '\uFFFD'];
  assert.deepEqual(keys.sort(compareKeys), ['Z', 'a', 'a/z', 'b', 'é', '\uFFFD', '\u{1F600}']);
});
