// The crowdfund migrations in the order they apply: the original's story (001–003), then ours (004).
import type { Migration } from 'kysely';
import * as init from './001_init.ts';
import * as voteCounts from './002_vote_counts.ts';
import * as replies from './003_replies_and_voters.ts';
import * as idempotency from './004_idempotency_keys.ts';

export const migrations: Record<string, Migration> = {
  '001_init': init,
  '002_vote_counts': voteCounts,
  '003_replies_and_voters': replies,
  '004_idempotency_keys': idempotency,
};
