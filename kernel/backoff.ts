// Retry timing in one place: jittered exponential delays, a plain sleep, and a sleep that can be cut short.

/** Full-jitter exponential backoff: a random delay in [0, min(cap, base·factor^attempt)). */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, factor = 2): number {
  return Math.random() * Math.min(capMs, baseMs * factor ** attempt);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A sleep that `wake()` ends early: loops that back off between attempts (the outbox relay, the
 * Redis consumer, the cache's relist) must still stop, or look again, the moment they are told.
 */
export class Waker {
  private wakeUp?: () => void;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wakeUp === done) self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  /** Ends the current sleep, if any; a sleep begun later is not affected. */
  wake(): void {
    this.wakeUp?.();
  }
}
