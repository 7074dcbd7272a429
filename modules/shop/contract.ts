// The shop's boundary: the products facade the orders role calls, the order_created event and their schemas.
import { z } from 'zod';
import { defineContract, defineTopic, method } from '../../kernel/contract.ts';

/** Quantities above this are refused with 400 (no airship dealer sells a million of one kind). */
export const MAX_QUANTITY = 1_000_000;
/** Counts stored in 32-bit integer columns. */
const MAX_INT = 2_147_483_647;
export const MAX_LINES = 100;

// Ids become Redis key suffixes, URL path segments and cursors: printable ASCII without '/', '%' or spaces.
export const productId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:~-]*$/, 'must start with a letter or digit and contain only letters, digits, _ . : ~ -');

const count = z.number().int().min(0).max(MAX_INT);

export const productSchema = z.strictObject({
  id: productId,
  title: z.string().trim().min(1).max(200),
  passenger_capacity: count,
  maximum_speed: count,
  in_stock: count,
});
export type Product = z.infer<typeof productSchema>;

export const productPatchSchema = z
  .strictObject({
    title: productSchema.shape.title.optional(),
    passenger_capacity: count.optional(),
    maximum_speed: count.optional(),
    in_stock: count.optional(),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), { message: 'name at least one field to change' });
export type ProductPatch = z.infer<typeof productPatchSchema>;

const stockLineSchema = z.strictObject({
  product_id: z.string().min(1).max(128),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
});
export type StockLine = z.infer<typeof stockLineSchema>;

export const productsContract = defineContract('shop.products', {
  getMany: method({
    summary: 'The products with these ids, in one batched lookup; unknown ids are simply absent.',
    input: z.strictObject({ ids: z.array(z.string().min(1).max(128)).max(1000) }),
    output: z.object({ products: z.array(productSchema) }),
    idempotent: true,
  }),
  reserve: method({
    summary: 'Holds stock for every line, all or nothing (OUT_OF_STOCK / PRODUCT_NOT_FOUND); the same reservation_id again answers the same.',
    input: z.strictObject({ reservation_id: z.uuid(), lines: z.array(stockLineSchema).min(1).max(MAX_LINES) }),
    output: z.object({ reservation_id: z.string() }),
    idempotent: true,
  }),
  release: method({
    summary: 'Drops the holds of a reservation whose order was not stored.',
    input: z.strictObject({ reservation_id: z.uuid() }),
    output: z.object({ released: z.boolean() }),
    idempotent: true,
  }),
});

export const orderCreatedSchema = z.object({
  order_id: z.number().int().positive(),
  reservation_id: z.uuid(),
  lines: z.array(stockLineSchema).min(1),
});
export type OrderCreated = z.infer<typeof orderCreatedSchema>;
/** An order was stored: its reservation's holds become the products' stock decrements (shop.products applies it). */
export const ORDER_CREATED = defineTopic('shop.order_created', orderCreatedSchema);
