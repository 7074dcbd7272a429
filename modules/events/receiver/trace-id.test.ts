// UUIDv7 trace ids: the RFC 9562 layout, the clock in the first 48 bits, and creation order as text order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from './trace-id.ts';

describe('uuidv7', () => {
  it('is a version-7, RFC-variant UUID carrying the millisecond clock', () => {
    const now = Date.UTC(2026, 11, 1, 10, 0, 0, 123);
    const id = uuidv7(now);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), now);
  });

  it('sorts in creation order and never repeats, also past 4096 ids in one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7(Date.now()));
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
    const burst = Array.from({ length: 5000 }, () => uuidv7(1));
    assert.equal(new Set(burst).size, burst.length);
    assert.deepEqual([...burst].sort(), burst);
  });
});
