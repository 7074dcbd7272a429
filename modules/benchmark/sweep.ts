// A role's sweep: `fn` every `ms`, never two at once, a failure logged and left to the next round.
import type { Logger } from '../../kernel/logger.ts';

/** Starts the sweep (unref'd: it never holds a stopping process open); returns what stops it. */
export function startSweep(ms: number, what: string, log: Logger, fn: () => Promise<void>): () => void {
  let sweeping = false;
  const timer = setInterval(async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await fn();
    } catch (err) {
      log.warn({ err }, `${what} failed; next sweep retries`);
    } finally {
      sweeping = false;
    }
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
