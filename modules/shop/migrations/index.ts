// The shop's migrations in the order they apply (names sort in order).
import type { Migration } from 'kysely';
import * as init from './001_init.ts';
import * as rowCounts from './002_row_counts.ts';
import * as ordersReservation from './003_orders_reservation.ts';

export const migrations: Record<string, Migration> = {
  '001_init': init,
  '002_row_counts': rowCounts,
  '003_orders_reservation': ordersReservation,
};
