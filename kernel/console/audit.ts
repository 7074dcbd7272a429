// Every console action acts once and leaves a line: the same target is never acted on twice at the same time, the
// outcome is logged with who did it, and the last ones are kept for the pages to show.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.ts';

export interface AuditEntry {
  id: string;
  at: string;
  who: string;
  action: string;
  target: string;
  outcome: string;
}

export function createAudit(log: Logger, keep = 100) {
  const entries: AuditEntry[] = [];
  const busy = new Set<string>();
  return {
    /** Newest first. */
    entries: () => [...entries],
    /**
     * Runs `act` unless the same target is being acted on already (a double click, a second tab): then nothing is done.
     * The entry records what happened, failures included.
     */
    async run(who: string, action: string, target: string, act: () => Promise<string>): Promise<AuditEntry> {
      const entry: AuditEntry = { id: randomUUID(), at: new Date().toISOString(), who, action, target, outcome: '' };
      if (busy.has(target)) entry.outcome = 'not done: another console action on it is under way';
      else {
        busy.add(target);
        try {
          entry.outcome = await act();
        } catch (err) {
          entry.outcome = `failed: ${err instanceof Error ? err.message : String(err)}`;
          log.warn({ err, action, target, by: who }, 'console action failed');
        } finally {
          busy.delete(target);
        }
      }
      log.info({ action, target, by: who, outcome: entry.outcome }, 'console action');
      entries.unshift(entry);
      entries.length = Math.min(entries.length, keep);
      return entry;
    },
  };
}

export type Audit = ReturnType<typeof createAudit>;
