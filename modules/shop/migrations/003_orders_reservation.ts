// An index on orders.reservation_id: the products role asks "was this reservation's order stored?" before a hold may expire.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('orders_reservation').on('orders').column('reservation_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('orders_reservation').execute();
}
