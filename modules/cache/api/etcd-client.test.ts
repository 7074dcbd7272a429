// The etcd client's fault handling without a server: the host breaker (no deadlock when half-open), stale-token detection.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BrokenCircuitError } from 'cockatiel';
import { GRPCInvalidArgumentError, GRPCUnavailableError } from 'etcd3';
import { createEtcdClient, HostBreaker, isStaleAuthToken } from './etcd-client.ts';

const unavailable = () => Promise.reject(new GRPCUnavailableError('14 UNAVAILABLE: connection refused'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HostBreaker', () => {
  test('opens after 3 recoverable failures in a row, fails fast while open, lets calls through again after the pause', async () => {
    const breaker = new HostBreaker(3, 50);
    await assert.rejects(breaker.execute(() => Promise.reject(new GRPCInvalidArgumentError('3 INVALID_ARGUMENT'))));
    for (let i = 0; i < 3; i++) await assert.rejects(breaker.execute(unavailable), GRPCUnavailableError);
    assert.equal(breaker.open, true);
    let called = false;
    await assert.rejects(
      breaker.execute(() => {
        called = true;
      }),
      BrokenCircuitError,
    );
    assert.equal(called, false, 'an open breaker does not call');
    await sleep(60);
    // Half-open: one more failure opens it again at once.
    await assert.rejects(breaker.execute(unavailable), GRPCUnavailableError);
    await assert.rejects(
      breaker.execute(() => 1),
      BrokenCircuitError,
    );
    await sleep(60);
    assert.equal(await breaker.execute(() => 'ok'), 'ok');
    assert.equal(breaker.open, false);
    // Closed again: it takes 3 failures in a row to open.
    for (let i = 0; i < 2; i++) await assert.rejects(breaker.execute(unavailable));
    assert.equal(await breaker.execute(() => 'still ok'), 'still ok');
  });

  test('half-open, a call made from inside another call does not wait for it (etcd3 retries "invalid auth token" that way)', async () => {
    const breaker = new HostBreaker(3, 20);
    for (let i = 0; i < 3; i++) await assert.rejects(breaker.execute(unavailable));
    await sleep(30);
    const nested = breaker.execute(() => breaker.execute(() => 'inner'));
    assert.equal(await Promise.race([nested, sleep(1000).then(() => 'hung')]), 'inner');
  });

  test('non-recoverable errors (etcd answered) never open it', async () => {
    const breaker = new HostBreaker(3, 10_000);
    for (let i = 0; i < 5; i++) await assert.rejects(breaker.execute(() => Promise.reject(new GRPCInvalidArgumentError('x'))));
    await assert.rejects(breaker.execute(() => Promise.reject('not even an Error')));
    assert.equal(breaker.open, false);
  });
});

test('isStaleAuthToken: etcd\'s "revision of auth store is old", nothing else', () => {
  assert.equal(isStaleAuthToken(new GRPCInvalidArgumentError('3 INVALID_ARGUMENT: etcdserver: revision of auth store is old')), true);
  assert.equal(isStaleAuthToken(new GRPCInvalidArgumentError('3 INVALID_ARGUMENT: etcdserver: permission denied')), false);
  assert.equal(isStaleAuthToken('revision of auth store is old'), false);
});

test('the client can drop its token and its watch stream: the etcd3 internals it relies on are where it expects them', () => {
  const client = createEtcdClient({ ETCD_URL: ['http://127.0.0.1:1'], ETCD_USERNAME: 'u', ETCD_PASSWORD: 'p', CACHE_ETCD_TIMEOUT_MS: 100 });
  try {
    const internals = client as unknown as { pool: { authenticator: { invalidateMetadata: unknown } }; watchManager: { handleError: unknown } };
    assert.equal(typeof internals.pool.authenticator.invalidateMetadata, 'function');
    assert.equal(typeof internals.watchManager.handleError, 'function');
  } finally {
    client.close();
  }
});
