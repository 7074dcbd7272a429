// The shop's migrations in the order they apply (names sort in order).
import type { Migration } from 'kysely/migration';
import * as init from './001_init.ts';
import * as rowCounts from './002_row_counts.ts';

export const migrations: Record<string, Migration> = {
  '001_init': init,
  '002_row_counts': rowCounts,
};
