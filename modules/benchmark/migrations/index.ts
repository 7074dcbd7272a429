// The benchmark module's migrations in the order they apply (names sort in order).
import type { Migration } from 'kysely';
import * as init from './001_init.ts';
import * as callbackIndexes from './002_callback_indexes.ts';
import * as openDocuments from './003_open_documents.ts';
import * as callsAfterCommit from './004_calls_after_commit.ts';

export const migrations: Record<string, Migration> = {
  '001_init': init,
  '002_callback_indexes': callbackIndexes,
  '003_open_documents': openDocuments,
  '004_calls_after_commit': callsAfterCommit,
};
