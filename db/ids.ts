// Ids that are stored as index keys: time-ordered, so the rows written together land on the same index pages.
import { randomUUID } from 'node:crypto';

/** The millisecond of the last id and its text: ids of one millisecond share it. */
const last = { ms: -1, prefix: '' };

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Ids made one after another sort
 * one after another, so a B-tree index on them grows at its right edge: a batch of inserts dirties one leaf page
 * (one WAL frame at the commit) instead of one random page per row, as version 4's did (docs/benchmarks.md, issue 24).
 * Still unguessable enough for what it keys (reservations, events): 74 random bits from node's CSPRNG.
 */
export function timeOrderedId(now = Date.now()): string {
  if (now !== last.ms) {
    const hex = now.toString(16).padStart(12, '0');
    last.ms = now;
    last.prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7`;
  }
  // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: its variant and 74 of its random bits are kept.
  return last.prefix + randomUUID().slice(15);
}
