// Ids that are stored as index keys: time-ordered, so the rows written together land on the same index pages.
import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Ids made one after another sort
 * one after another, so a B-tree index on them grows at its right edge: a batch of inserts dirties one leaf page
 * (one WAL frame at the commit) instead of one random page per row, as version 4's did (docs/benchmarks.md, issue 24).
 * Still unguessable enough for what it keys (reservations, events): 74 random bits from node's CSPRNG.
 */
export function timeOrderedId(now = Date.now()): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: its variant and 74 of its random bits are kept
  const ms = now.toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${random.slice(15)}`;
}
