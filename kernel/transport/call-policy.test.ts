// The call policy on its own: one deadline for a call and its retries, a breaker that fails fast while one probe tests the peer, a bulkhead.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../errors.ts';
import { callPolicy, NoAnswer } from './call-policy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** An attempt that never answers: it fails at its deadline, as the transports' attempts do. */
const silent = (deadline: number) => sleep(deadline - Date.now()).then(() => Promise.reject(new NoAnswer('demo.peer', 'DEADLINE_EXCEEDED')));
const failure = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('expected a failure'),
    (e: AppError) => e,
  );

/** `attempt`, counting each call in `counter.n`. */
const counting =
  <T>(counter: { n: number }, attempt: (deadline: number) => Promise<T>) =>
  (deadline: number) => {
    counter.n++;
    return attempt(deadline);
  };

describe('call policy', () => {
  it('retries an idempotent call that got no answer, within one deadline; a non-idempotent one never', async () => {
    const call = callPolicy({ role: 'demo.peer', timeoutMs: 300, retries: 5, retryBaseMs: 1, breakAfter: 100 });
    const tries = { n: 0 };
    const unavailable = async () => Promise.reject(new NoAnswer('demo.peer', 'UNAVAILABLE'));
    assert.equal(
      await call(
        'get',
        true,
        counting(tries, async () => (tries.n < 3 ? unavailable() : 'ok')),
      ),
      'ok',
    );
    assert.equal(tries.n, 3);

    tries.n = 0;
    const started = Date.now();
    const err = await failure(call('get', true, counting(tries, silent)));
    assert.equal(err.code, 'ROLE_UNAVAILABLE');
    assert.equal(tries.n, 1, 'a deadline spent is not tried again');
    assert.ok(Date.now() - started < 400, `${Date.now() - started} ms: the deadline covers the whole call`);

    tries.n = 0;
    await failure(call('put', false, counting(tries, unavailable)));
    assert.equal(tries.n, 1);
    // The peer's answer, even an error, is not tried again unless it is a 503.
    tries.n = 0;
    const notFound = await failure(
      call(
        'get',
        true,
        counting(tries, async () => Promise.reject(new AppError('X_NOT_FOUND', 404, 'no'))),
      ),
    );
    assert.equal(notFound.code, 'X_NOT_FOUND');
    assert.equal(tries.n, 1);
  });

  it('opens after consecutive failures: calls fail at once, one probe at a time tests the peer, a success closes it', async () => {
    const call = callPolicy({ role: 'demo.peer', timeoutMs: 100, retries: 0, breakAfter: 3, probeAfterMs: 150 });
    for (let i = 0; i < 3; i++) await failure(call('get', true, silent));
    const reached = { n: 0 };
    const fine = counting(reached, async () => 'ok');
    const fast = Date.now();
    const refused = await failure(call('get', true, fine));
    assert.deepEqual([refused.code, refused.status, reached.n], ['ROLE_UNAVAILABLE', 503, 0]);
    assert.ok(Date.now() - fast < 20);
    // Another method has its own breaker.
    assert.equal(await call('count', true, async () => 'ok'), 'ok');

    await sleep(160);
    const probe = failure(call('get', true, silent));
    // While the probe waits on the silent peer, the others do not wait with it.
    const during = Date.now();
    assert.equal((await failure(call('get', true, fine))).code, 'ROLE_UNAVAILABLE');
    assert.ok(Date.now() - during < 20, 'a caller does not wait for the probe');
    assert.equal(reached.n, 0);
    await probe;

    await sleep(160);
    assert.equal(await call('get', true, async () => 'back'), 'back');
    assert.equal(await call('get', true, async () => 'again'), 'again');
  });

  it('a full bulkhead refuses the next call at once', async () => {
    const call = callPolicy({ role: 'demo.peer', timeoutMs: 200, retries: 0, maxInFlight: 2 });
    const held = [call('get', true, () => sleep(100).then(() => 'a')), call('get', true, () => sleep(100).then(() => 'b'))];
    const started = Date.now();
    const refused = await failure(call('get', true, async () => 'c'));
    assert.match(refused.message, /2 calls are already waiting/);
    assert.ok(Date.now() - started < 20);
    assert.deepEqual(await Promise.all(held), ['a', 'b']);
    assert.equal(await call('get', true, async () => 'd'), 'd');
  });
});
