// Bounds on concurrent requests to targets: per target host (host:port) and in all. A target that hangs fills only
// its own host's slots; the others keep theirs (cockatiel bulkheads, queueing without bound).
import { BulkheadPolicy } from 'cockatiel';

const QUEUE = Number.MAX_SAFE_INTEGER; // unbounded in practice, and still counted (Infinity - 1 is Infinity)

export interface Limits {
  /** Runs `fn` once `host` has a free slot and so does the whole process. */
  run<T>(host: string, fn: () => Promise<T>): Promise<T>;
}

export function createLimits(perHost: number, total: number): Limits {
  const all = new BulkheadPolicy(total, QUEUE);
  const hosts = new Map<string, BulkheadPolicy>();
  return {
    async run(host, fn) {
      let mine = hosts.get(host);
      if (!mine) hosts.set(host, (mine = new BulkheadPolicy(perHost, QUEUE)));
      try {
        // The host's slot first: requests queued behind a hanging host hold none of the shared ones.
        return await mine.execute(() => all.execute(fn));
      } finally {
        if (mine.executionSlots === perHost && mine.queueSlots === QUEUE) hosts.delete(host);
      }
    },
  };
}
