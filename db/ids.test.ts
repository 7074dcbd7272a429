// timeOrderedId: a valid UUID (version 7) whose order is the order it was made in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { timeOrderedId } from './ids.ts';

test('ids are RFC 9562 version 7 UUIDs carrying their millisecond, and sort in the order they were made', () => {
  const at = Date.UTC(2026, 11, 7, 20, 0, 0, 123);
  const id = timeOrderedId(at);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(z.uuid().safeParse(id).success, 'what the contracts accept as a uuid');
  assert.equal(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), at, 'the first 48 bits are the millisecond');

  const made = [at, at + 1, at + 1000, at + 86_400_000, Date.UTC(2100, 0, 1)].map((ms) => timeOrderedId(ms));
  assert.deepEqual([...made].sort(), made, 'later ids sort after earlier ones, as text');
  const sameMs = new Set(Array.from({ length: 1000 }, () => timeOrderedId(at)));
  assert.equal(sameMs.size, 1000, 'ids of one millisecond still differ');
});
