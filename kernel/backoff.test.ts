// The backoff helpers: delays stay under their cap, and wake() ends a sleep at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, Waker } from './backoff.ts';

describe('backoff', () => {
  it('backoffDelay is jittered below min(cap, base·2^attempt)', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const d = backoffDelay(attempt, 100, 5000);
      assert.ok(d >= 0 && d < Math.min(5000, 100 * 2 ** attempt), `attempt ${attempt}: ${d}`);
    }
  });

  it('wake() ends a long sleep at once, and only the sleep in progress', async () => {
    const waker = new Waker();
    const started = Date.now();
    const sleeping = waker.sleep(10_000);
    setTimeout(() => waker.wake(), 20);
    await sleeping;
    assert.ok(Date.now() - started < 1000);
    waker.wake(); // nothing sleeps now
    const t = Date.now();
    await waker.sleep(30);
    assert.ok(Date.now() - t >= 25, 'a later sleep runs its full time');
  });
});
