// Failing fast toward another process: one deadline per call (its retries inside it), and per method a circuit breaker and a bulkhead.
import {
  BrokenCircuitError,
  BulkheadPolicy,
  BulkheadRejectedError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import { backoffDelay, sleep } from '../backoff.ts';
import { AppError, errors } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * The peer gave no answer: refused, reset, cancelled, or none before the deadline. The public client
 * sees 503 ROLE_UNAVAILABLE naming the role (never its address); only these count against the breaker
 * and only these (and a callee's own 503) are tried again, for idempotent methods.
 */
export class NoAnswer extends AppError {
  constructor(
    role: string,
    why: string,
    /**
     * False for a call whose connection went away under it (reset, GOAWAY): one event fails every call
     * on the connection at once, which must not read as that many failures of the peer. The next
     * attempt, on a new connection, tells whether the peer is there.
     */
    readonly trips = true,
  ) {
    super('ROLE_UNAVAILABLE', 503, `${role} is unavailable: ${why}`);
  }
}

export interface CallPolicyOptions {
  role: string;
  /** The whole call, retries included (RPC_TIMEOUT_MS): a caller never waits longer. */
  timeoutMs: number;
  /** Further attempts of an idempotent method, while the deadline leaves time (RPC_RETRIES). */
  retries: number;
  retryBaseMs?: number;
  /** Calls of one method in flight at most; the next fails at once. Far above ordinary load, far below the ~1000 stream resets a Node server takes in a burst. */
  maxInFlight?: number;
  /** Consecutive calls of a method without an answer that open its breaker. */
  breakAfter?: number;
  /** How long an open breaker refuses calls before one probe goes through. */
  probeAfterMs?: number;
  log?: Logger;
}

export type CallPolicy = <T>(method: string, idempotent: boolean, attempt: (deadline: number) => Promise<T>) => Promise<T>;

/**
 * Per method rather than per role: one slow rpc (a large page timing out) must not shut the cheap
 * ones beside it, while a stalled peer trips every method's breaker within its first few calls.
 * A caller that meets an open breaker, a probe in progress or a full bulkhead gets ROLE_UNAVAILABLE
 * at once: a stalled peer costs fast failures, not a pile of callers each waiting out its deadline.
 */
/** Each remote role's policy, made on its first call: what a transport (one per peer address) holds. */
export function callPolicies(opts: Omit<CallPolicyOptions, 'role'>): (role: string) => CallPolicy {
  const policies = new Map<string, CallPolicy>();
  return (role) => {
    let p = policies.get(role);
    if (!p) policies.set(role, (p = callPolicy({ ...opts, role })));
    return p;
  };
}

export function callPolicy(opts: CallPolicyOptions): CallPolicy {
  const maxInFlight = opts.maxInFlight ?? 256;
  const methods = new Map<string, { breaker: CircuitBreakerPolicy; bulkhead: BulkheadPolicy }>();

  function policyOf(method: string) {
    let p = methods.get(method);
    if (!p) {
      const breaker = circuitBreaker(
        handleWhen((err) => err instanceof NoAnswer && err.trips),
        { halfOpenAfter: opts.probeAfterMs ?? 500, breaker: new ConsecutiveBreaker(opts.breakAfter ?? 5) },
      );
      breaker.onBreak(() => opts.log?.warn({ role: opts.role, method }, 'calls to another process fail; refusing them for a moment (circuit open)'));
      breaker.onReset(() => opts.log?.info({ role: opts.role, method }, 'calls to another process answered again (circuit closed)'));
      methods.set(method, (p = { breaker, bulkhead: new BulkheadPolicy(maxInFlight, 0) }));
    }
    return p;
  }

  return async (method, idempotent, attempt) => {
    const deadline = Date.now() + opts.timeoutMs;
    const { breaker, bulkhead } = policyOf(method);
    let last: unknown;
    for (let n = 1; ; n++) {
      try {
        // cockatiel makes callers wait for a half-open breaker's probe; against a stalled peer that is
        // a deadline each, so they fail now and the probe alone finds out.
        if (breaker.state === CircuitState.HalfOpen) throw new BrokenCircuitError();
        return await bulkhead.execute(() => breaker.execute(() => attempt(deadline)));
      } catch (err) {
        // A retry that finds the breaker opened by its own first attempt reports that attempt's failure.
        if (err instanceof BrokenCircuitError)
          throw last ?? errors.ROLE_UNAVAILABLE(`${opts.role} is unavailable: it keeps failing, calls are refused for a moment`);
        if (err instanceof BulkheadRejectedError) throw errors.ROLE_UNAVAILABLE(`${opts.role} is unavailable: ${maxInFlight} calls are already waiting on it`);
        const again = idempotent && err instanceof AppError && err.status === 503;
        const delay = backoffDelay(n, opts.retryBaseMs ?? 50, 2000);
        if (!again || n > opts.retries || Date.now() + delay >= deadline) throw err;
        last = err;
        opts.log?.debug({ role: opts.role, method, attempt: n, reason: err.message }, 'call to another process failed; trying again');
        await sleep(delay);
      }
    }
  };
}
