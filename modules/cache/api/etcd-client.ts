// Builds the etcd3 client from configuration: endpoints, user/password, TLS, deadlines, fault handling.
import { readFileSync } from 'node:fs';
import { BrokenCircuitError, handleWhen, noop, retry, wrap, type IDefaultPolicyContext, type IPolicy } from 'cockatiel';
import type { Etcd3, IOptions } from 'etcd3';
import { assertOutsideTransaction } from '../../../db/transaction-guard.ts';
import { etcd3 } from './etcd3.ts';

const { isRecoverableError } = etcd3;
import type { CacheConfig } from '../config.ts';

/** What the client is built from: the etcd part of the module's configuration, with at least one endpoint. */
export type EtcdSettings = Required<Pick<CacheConfig, 'ETCD_URL'>> &
  Pick<CacheConfig, 'ETCD_USERNAME' | 'ETCD_PASSWORD' | 'ETCD_CA_FILE' | 'ETCD_CERT_FILE' | 'ETCD_KEY_FILE' | 'CACHE_ETCD_TIMEOUT_MS'>;

/**
 * etcd refuses a token issued before the latest change to its users, roles or permissions ("revision of
 * auth store is old": a JWT token carries the auth revision it was issued at). The etcd3 client renews its
 * token only on "invalid auth token", so without help every request would fail until the token expires
 * (a JWT's TTL, 5 min by default) after any auth change in etcd, even one about another user.
 */
export const isStaleAuthToken = (err: unknown): boolean => err instanceof Error && err.message.includes('revision of auth store is old');

/** `renewToken` drops the client's auth token, so the next attempt authenticates again. */
function etcdOptions(s: EtcdSettings, renewToken: () => void = () => {}): IOptions {
  const timeoutMs = s.CACHE_ETCD_TIMEOUT_MS;
  const tls = s.ETCD_CA_FILE || s.ETCD_CERT_FILE || s.ETCD_URL.some((e) => e.startsWith('https:'));
  const options: IOptions = {
    hosts: s.ETCD_URL,
    dialTimeout: timeoutMs,
    // A unary call never waits longer than the deadline; streams (the watch) are long-lived by design.
    defaultCallOptions: (ctx) => {
      assertOutsideTransaction('an etcd call');
      return ctx.isStream ? {} : { deadline: Date.now() + timeoutMs };
    },
    grpcOptions: {
      // A list page or a batch of watch events can carry several 1 MiB values.
      'grpc.max_receive_message_length': -1,
      // Notices a silently dead connection (no RST) within ~15 s; etcd permits pings every 5 s.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
    },
    faultHandling: {
      // The client's default opens a host's breaker for 5 s; 1 s lets a restarted etcd be used sooner.
      host: () => new HostBreaker(3, 1000),
      // One retry, on another endpoint when there are several; and one with a fresh token after an auth change.
      global: wrap(retry(handleWhen(isRecoverableError), { maxAttempts: 1 }), renewingRetry(renewToken)),
    },
  };
  if (tls) {
    options.credentials = {
      rootCertificate: s.ETCD_CA_FILE ? readFileSync(s.ETCD_CA_FILE) : (undefined as unknown as Buffer),
      privateKey: s.ETCD_KEY_FILE ? readFileSync(s.ETCD_KEY_FILE) : undefined,
      certChain: s.ETCD_CERT_FILE ? readFileSync(s.ETCD_CERT_FILE) : undefined,
    };
  }
  if (s.ETCD_USERNAME && s.ETCD_PASSWORD) options.auth = { username: s.ETCD_USERNAME, password: s.ETCD_PASSWORD };
  return options;
}

/**
 * A host's circuit breaker: open after `threshold` recoverable failures in a row; while open, calls fail
 * at once; `retryAfterMs` after opening, calls go through again (the first success closes it, a failure
 * opens it anew). Not cockatiel's breaker: when half-open, that one lets one call through and makes every
 * other wait for it — and etcd3 retries a call refused with "invalid auth token" from inside the first
 * call's breaker, so that retry waited for its own caller: every call from then on hung, deadline or not
 * (with auth on, an etcd restart loses its simple tokens and opens the breaker: the client never recovered).
 */
export class HostBreaker implements IPolicy<IDefaultPolicyContext> {
  declare readonly _altReturn: never;
  readonly onSuccess = noop.onSuccess;
  readonly onFailure = noop.onFailure;
  private failures = 0;
  private openedAt = 0;

  constructor(
    private readonly threshold: number,
    private readonly retryAfterMs: number,
  ) {}

  get open(): boolean {
    return this.failures >= this.threshold && Date.now() - this.openedAt < this.retryAfterMs;
  }

  async execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal = new AbortController().signal): Promise<T> {
    if (this.open) throw new BrokenCircuitError();
    try {
      const result = await fn({ signal });
      this.failures = 0;
      return result;
    } catch (err) {
      if (err instanceof Error && isRecoverableError(err) && ++this.failures >= this.threshold) this.openedAt = Date.now();
      throw err;
    }
  }
}

function renewingRetry(renewToken: () => void) {
  const policy = retry(handleWhen(isStaleAuthToken), { maxAttempts: 1 });
  // Fires before the retry, which asks the client for its token again.
  policy.onRetry(() => renewToken());
  return policy;
}

/** The etcd3 1.1 internals used below (etcd-client.test.ts fails should a later version move them). */
interface Internals {
  pool?: { authenticator?: { invalidateMetadata?: () => void } };
  watchManager?: { handleError?: (err: Error) => void };
}

/** Drops the client's auth token (etcd3 has no public way): the next call authenticates again. */
function dropToken(client: Etcd3): void {
  (client as unknown as Internals).pool?.authenticator?.invalidateMetadata?.();
}

/**
 * Drops the client's token and its watch stream: the next watch opens a new stream, authenticated anew.
 * etcd checks the token a watch stream was opened with at each watch it creates on it, and refuses the
 * watch once that token has expired or predates an auth change. etcd3 1.1 keeps such a stream, and its
 * queue waits for a creation that never comes: every later watch on the client hangs, unconnected.
 */
export function dropWatchStream(client: Etcd3): void {
  dropToken(client);
  (client as unknown as Internals).watchManager?.handleError?.(new Error('watch stream dropped: the next watch opens a new one'));
}

export function createEtcdClient(s: EtcdSettings): Etcd3 {
  const client: Etcd3 = new etcd3.Etcd3(etcdOptions(s, () => dropToken(client)));
  return client;
}
