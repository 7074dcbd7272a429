// Tests for the group-commit batcher: batching, queuing during a flush, failure isolation, drain/close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGroupCommit, GroupCommitClosedError } from './group-commit.ts';

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
  const gc = createGroupCommit<number, number>(async (items) => {
    batches.push(items);
    return items.map((i) => i * 10);
  }, { maxBatch: 100 });
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
  const gc = createGroupCommit<number, number>(async (items) => {
    batches.push(items);
    return items;
  }, { maxBatch: 3 });
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => gc.submit(i)));
  assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(batches, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
});

test('a failing flush rejects only its own items', async () => {
  const { batches, gates, flush } = controlledFlush();
  const gc = createGroupCommit(flush, { maxBatch: 100 });
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
  const gc = createGroupCommit<number, number>((items) => {
    if (mode === 'throw') throw new Error('sync boom');
    if (mode === 'short') return Promise.resolve(items.slice(1));
    return Promise.resolve(items);
  }, { maxBatch: 10 });
  await assert.rejects(gc.submit(1), /sync boom/);
  mode = 'short';
  await assert.rejects(Promise.all([gc.submit(1), gc.submit(2)]), /returned 1 results for 2 items/);
  mode = 'ok';
  assert.equal(await gc.submit(7), 7);
});

test('onFlush reports each batch size and error', async () => {
  const seen: { size: number; failed: boolean }[] = [];
  let fail = false;
  const gc = createGroupCommit<number, number>(async (items) => {
    if (fail) throw new Error('x');
    return items;
  }, { maxBatch: 10, onFlush: ({ size, error }) => seen.push({ size, failed: error !== undefined }) });
  await Promise.all([gc.submit(1), gc.submit(2)]);
  fail = true;
  await gc.submit(3).catch(() => {});
  assert.deepEqual(seen, [{ size: 2, failed: false }, { size: 1, failed: true }]);
});

test('drain waits for queued and running flushes; close rejects later submits', async () => {
  const { batches, gates, flush } = controlledFlush();
  const gc = createGroupCommit(flush, { maxBatch: 100 });
  const p = gc.submit(1);
  let drained = false;
  const closing = gc.close().then(() => { drained = true; });
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
