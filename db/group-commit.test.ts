// Tests for the group-commit batcher: batching, queuing during a flush, failure isolation, drain/close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGroupCommit, databaseUnavailable, GroupCommitClosedError } from './group-commit.ts';

/** A flush whose completion the test controls, recording each batch it was given. */
function controlledFlush() {
  const batches: number[][] = [];
  const gates: { release(): void; fail(err: Error): void }[] = [];
  const flush = (items: number[]) => {
    batches.push(items);
    return new Promise<string[]>((resolve, reject) => {
      gates.push({ release: () => resolve(items.map((i) => `r${i}`)), fail: reject });
    });
  };
  return { batches, gates, flush };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await tick();
  assert.ok(cond(), 'condition never became true');
}

test('items submitted together go out in one flush, each caller gets its own result', async () => {
  const batches: number[][] = [];
  const gc = createGroupCommit<number, number>(
    async (items) => {
      batches.push(items);
      return items.map((i) => i * 10);
    },
    { maxBatch: 100 },
  );
  const results = await Promise.all([1, 2, 3, 4, 5].map((i) => gc.submit(i)));
  assert.deepEqual(results, [10, 20, 30, 40, 50]);
  assert.deepEqual(batches, [[1, 2, 3, 4, 5]]);
});

test('items arriving while a flush runs wait, and the next flush takes them all', async () => {
  const { batches, gates, flush } = controlledFlush();
  const gc = createGroupCommit(flush, { maxBatch: 100 });
  const first = gc.submit(1);
  await until(() => batches.length === 1);
  const later = [2, 3, 4, 5].map((i) => gc.submit(i));
  await tick();
  await tick();
  assert.equal(batches.length, 1, 'no second flush may start while the first runs');
  assert.equal(gc.queued, 4);
  gates[0].release();
  assert.equal(await first, 'r1');
  await until(() => batches.length === 2);
  assert.deepEqual(batches[1], [2, 3, 4, 5]);
  gates[1].release();
  assert.deepEqual(await Promise.all(later), ['r2', 'r3', 'r4', 'r5']);
});

test('maxBatch caps each flush; the rest follow in order', async () => {
  const batches: number[][] = [];
  const gc = createGroupCommit<number, number>(
    async (items) => {
      batches.push(items);
      return items;
    },
    { maxBatch: 3 },
  );
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => gc.submit(i)));
  assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(batches, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
});

test('a failing flush rejects only its own items', async () => {
  const { batches, gates, flush } = controlledFlush();
  const gc = createGroupCommit(flush, { maxBatch: 100, isolate: () => false });
  const a = gc.submit(1);
  const b = gc.submit(2);
  await until(() => batches.length === 1);
  const c = gc.submit(3);
  gates[0].fail(new Error('disk on fire'));
  await assert.rejects(a, /disk on fire/);
  await assert.rejects(b, /disk on fire/);
  await until(() => batches.length === 2);
  gates[1].release();
  assert.equal(await c, 'r3');
});

test('a flush that throws synchronously or returns the wrong number of results rejects its batch', async () => {
  let mode: 'throw' | 'short' | 'ok' = 'throw';
  const gc = createGroupCommit<number, number>(
    (items) => {
      if (mode === 'throw') throw new Error('sync boom');
      if (mode === 'short') return Promise.resolve(items.slice(1));
      return Promise.resolve(items);
    },
    { maxBatch: 10, isolate: () => false },
  );
  await assert.rejects(gc.submit(1), /sync boom/);
  mode = 'short';
  await assert.rejects(Promise.all([gc.submit(1), gc.submit(2)]), /returned 1 results for 2 items/);
  mode = 'ok';
  assert.equal(await gc.submit(7), 7);
});

test('one poison item in a batch fails alone: every other item commits, in order, and gets its own result', async () => {
  const committed: number[][] = [];
  let flushes = 0;
  const gc = createGroupCommit<number, string>(
    async (items) => {
      flushes++;
      // As a database does: one row it refuses rolls back the whole transaction.
      if (items.includes(13)) throw new Error(`row 13 refused`);
      committed.push(items);
      return items.map((i) => `r${i}`);
    },
    { maxBatch: 200 },
  );
  const items = Array.from({ length: 150 }, (_, i) => i);
  const settled = await Promise.allSettled(items.map((i) => gc.submit(i)));
  for (const [i, s] of settled.entries()) {
    if (i === 13) assert.match(String((s as PromiseRejectedResult).reason), /row 13 refused/);
    else assert.deepEqual(s, { status: 'fulfilled', value: `r${i}` }, `item ${i}`);
  }
  assert.deepEqual(
    committed.flat(),
    items.filter((i) => i !== 13),
    'each valid item committed once, in arrival order',
  );
  assert.ok(flushes <= 1 + 2 * Math.ceil(Math.log2(150)), `isolating one item took ${flushes} flushes`);
});

test('several poison items: each fails with its own error, the rest commit', async () => {
  const bad = new Set([0, 7, 8, 63]);
  const gc = createGroupCommit<number, number>(
    async (items) => {
      const b = items.find((i) => bad.has(i));
      if (b !== undefined) throw new Error(`bad ${b}`);
      return items;
    },
    { maxBatch: 64 },
  );
  const settled = await Promise.allSettled(Array.from({ length: 64 }, (_, i) => gc.submit(i)));
  settled.forEach((s, i) => {
    if (bad.has(i)) assert.match(String((s as PromiseRejectedResult).reason), new RegExp(`bad ${i}$`));
    else assert.equal((s as PromiseFulfilledResult<number>).value, i);
  });
});

test('by default an error that says the database is unreachable fails the batch in one flush', async () => {
  let flushes = 0;
  const seen: { size: number; split?: boolean }[] = [];
  const gc = createGroupCommit<number, number>(
    async () => {
      flushes++;
      throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    },
    { maxBatch: 100, onFlush: ({ size, split }) => seen.push({ size, split }) },
  );
  const settled = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => gc.submit(i)));
  assert.ok(settled.every((s) => s.status === 'rejected'));
  assert.equal(flushes, 1);
  assert.deepEqual(seen, [{ size: 50, split: false }]);
  for (const code of ['57P01', '08006', 'SQLITE_BUSY', 'SQLITE_IOERR_FSYNC', 'ECONNRESET'])
    assert.equal(databaseUnavailable(Object.assign(new Error('x'), { code })), true, code);
  for (const code of ['22021', '23505', '23502', 'SQLITE_CONSTRAINT_NOTNULL', undefined])
    assert.equal(databaseUnavailable(Object.assign(new Error('x'), { code })), false, String(code));
});

test('onFlush reports each batch size and error', async () => {
  const seen: { size: number; failed: boolean }[] = [];
  let fail = false;
  const gc = createGroupCommit<number, number>(
    async (items) => {
      if (fail) throw new Error('x');
      return items;
    },
    { maxBatch: 10, onFlush: ({ size, error }) => seen.push({ size, failed: error !== undefined }) },
  );
  await Promise.all([gc.submit(1), gc.submit(2)]);
  fail = true;
  await gc.submit(3).catch(() => {});
  assert.deepEqual(seen, [
    { size: 2, failed: false },
    { size: 1, failed: true },
  ]);
});

test('drain waits for queued and running flushes; close rejects later submits', async () => {
  const { batches, gates, flush } = controlledFlush();
  const gc = createGroupCommit(flush, { maxBatch: 100 });
  const p = gc.submit(1);
  let drained = false;
  const closing = gc.close().then(() => {
    drained = true;
  });
  await until(() => batches.length === 1);
  assert.equal(drained, false);
  await assert.rejects(gc.submit(2), GroupCommitClosedError);
  gates[0].release();
  await closing;
  assert.equal(await p, 'r1');
  assert.equal(gc.closed, true);
  await gc.drain();
});

test('rejects a maxBatch below 1', () => {
  assert.throws(() => createGroupCommit(async (x: number[]) => x, { maxBatch: 0 }), /maxBatch/);
});
