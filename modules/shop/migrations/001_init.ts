// The shop database: products and their stock holds (unused with the Redis store), orders and their lines.
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../../../db/database.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  // Byte order on both engines, so pages come out in the same order as Redis ZRANGEBYLEX.
  const idType = pg ? sql`text collate "C"` : sql`text`;
  const serial = pg ? 'serial' : 'integer';
  const autoId = (c: any) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement());

  await db.schema
    .createTable('products')
    .addColumn('id', idType, (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('passenger_capacity', 'integer', (c) => c.notNull())
    .addColumn('maximum_speed', 'integer', (c) => c.notNull())
    .addColumn('in_stock', 'integer', (c) => c.notNull().check(sql`in_stock >= 0`))
    .execute();

  await db.schema
    .createTable('stock_holds')
    .addColumn('reservation_id', 'text', (c) => c.notNull())
    .addColumn('product_id', idType, (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('stock_holds_pk', ['reservation_id', 'product_id'])
    .execute();
  await db.schema.createIndex('stock_holds_product').on('stock_holds').columns(['product_id', 'expires_at']).execute();

  // One row per applied order_created: a second delivery of the same reservation changes nothing.
  await db.schema
    .createTable('stock_applied')
    .addColumn('reservation_id', 'text', (c) => c.primaryKey())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('orders')
    .addColumn('id', serial, autoId)
    .addColumn('reservation_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('order_details')
    .addColumn('id', serial, autoId)
    .addColumn('order_id', 'integer', (c) => c.notNull().references('orders.id').onDelete('cascade'))
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('price_cents', 'bigint', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('order_details_order').on('order_details').column('order_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['order_details', 'orders', 'stock_applied', 'stock_holds', 'products']) await db.schema.dropTable(t).execute();
}
