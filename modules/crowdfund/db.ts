// The crowdfund database's tables (migrations/001–004), as both engines return them: Postgres' serial and integer
// columns and SQLite's integers are all numbers; created_at and voted_at are ISO-8601 text. The bus's outbox,
// inbox and dead_letters live here too, typed by the kernel (kernel/bus/tables.ts).
import type { Generated, Kysely } from 'kysely';
import type { ThreadTypeName } from './contract.ts';

export interface ProjectsTable {
  id: Generated<number>;
  /** Unique: a second project of the name is a unique violation. */
  project_name: string;
  tagline: string;
  created_at: string;
}

export interface TagsTable {
  project_id: number;
  tag: string;
}

export interface ThreadsTable {
  id: Generated<number>;
  project_id: number;
  /** A Postgres enum, a CHECKed text on SQLite: the name, either way. */
  thread_type: ThreadTypeName;
  message: string;
  created_at: string;
  up_votes: Generated<number>;
  down_votes: Generated<number>;
  /** 0 for a top-level thread. */
  parent_thread_id: Generated<number>;
  reply_count: Generated<number>;
}

export interface VotesTable {
  thread_id: number;
  voter_id: string;
  direction: 'up' | 'down';
  voted_at: string;
}

export interface IdempotencyKeysTable {
  key: string;
  /** sha256 of the proposal, hex. */
  request_hash: string;
  project_id: number;
  created_at: string;
}

export interface CrowdfundDB {
  projects: ProjectsTable;
  tags: TagsTable;
  threads: ThreadsTable;
  votes: VotesTable;
  idempotency_keys: IdempotencyKeysTable;
}

export type CrowdfundDatabase = Kysely<CrowdfundDB>;
