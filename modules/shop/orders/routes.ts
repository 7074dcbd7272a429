// HTTP routes of the orders role: the original gateway's /orders paths plus list and delete.
import { z } from 'zod';
import { cursorField, nextCursor } from '../../../kernel/http/cursor.ts';
import { route, type RouteSpec } from '../../../kernel/http/route.ts';
import { MAX_LINES, MAX_QUANTITY, productSchema } from '../contract.ts';
import { shopErrors } from '../errors.ts';
import { PRICE_PATTERN } from './money.ts';
import { limitField } from '../page-size.ts';
import type { OrderService } from './service.ts';

const MAX_ORDER_ID = 2_147_483_647;

const orderLineInput = z.strictObject({
  product_id: z.string().min(1).max(128),
  price: z.string().regex(PRICE_PATTERN, 'must be a decimal string ≥ 0 with at most 2 decimals, like "99.99"'),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
});
const createOrderBody = z.strictObject({ order_details: z.array(orderLineInput).min(1).max(MAX_LINES) });

const orderSchema = z
  .object({
    id: z.int().min(1).max(MAX_ORDER_ID),
    created_at: z.string(),
    order_details: z.array(
      z.object({
        id: z.number(),
        product_id: z.string(),
        price: z.string(),
        quantity: z.number(),
        image: z.string(),
        product: productSchema.nullable(),
      }),
    ),
  })
  .meta({ id: 'Order', description: 'an order with its lines' });

// Digits only: "1e3", "0x10" or "1.0" are not order ids (z.coerce.number would accept them).
// Documented as the integer it is (the pattern is how the path's text is checked).
const idParams = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'must be a positive integer')
    .transform(Number)
    .meta({ type: 'integer', minimum: 1, pattern: undefined }),
});
const listQuery = z.object({
  limit: limitField,
  // The last order id of the previous page.
  cursor: cursorField(z.int().min(1).max(MAX_ORDER_ID)),
});

function existingId(id: number): number {
  if (id > MAX_ORDER_ID) throw shopErrors.ORDER_NOT_FOUND(`Order with id ${id} not found`);
  return id;
}

export function orderRoutes(service: OrderService): RouteSpec[] {
  const tags = ['shop: orders'];
  return [
    route({
      method: 'post',
      path: '/orders',
      operationId: 'createOrder',
      summary: 'Place an order; stock is held at once (409 OUT_OF_STOCK) and decremented by the order_created event',
      description: 'Each line names a product, its price (a decimal string) and a quantity. The example orders the product the products examples create.',
      tags,
      body: createOrderBody,
      responses: { 200: { description: "Placed: the new order's id", schema: z.object({ id: z.int().min(1) }) } },
      errors: ['PRODUCT_NOT_FOUND', 'OUT_OF_STOCK', 'PRODUCTS_STORE_UNAVAILABLE', 'ROLE_UNAVAILABLE'],
      example: { body: { order_details: [{ product_id: 'falcon-9', price: '99.99', quantity: 2 }] } },
      async handler({ body }) {
        return { body: { id: await service.create(body.order_details) } };
      },
    }),
    route({
      method: 'get',
      path: '/orders',
      operationId: 'listOrders',
      summary: 'A page of orders in id order, each rendered as GET /orders/:id does',
      description: 'Pass `next_cursor` back as `cursor` for the next page; it is null on the last page.',
      tags,
      query: listQuery,
      responses: {
        200: { description: 'A page of orders', schema: z.object({ items: z.array(orderSchema), total: z.int(), next_cursor: z.string().nullable() }) },
      },
      // Rendering reads the lines' products from the products role (another process when split).
      errors: ['PRODUCTS_STORE_UNAVAILABLE', 'ROLE_UNAVAILABLE'],
      example: { query: { limit: 20 } },
      async handler({ query }) {
        const page = await service.list(query.limit, query.cursor);
        return { body: { items: page.items, total: page.total, next_cursor: nextCursor(page.last) } };
      },
    }),
    route({
      method: 'get',
      path: '/orders/:id',
      operationId: 'getOrder',
      summary: 'An order with its lines, each with its product (null when deleted since) and image URL',
      description: 'Order ids are integers from 1, in the order orders were placed; the example reads the first.',
      tags,
      params: idParams,
      responses: { 200: { description: 'The order', schema: orderSchema } },
      errors: ['ORDER_NOT_FOUND'],
      example: { params: { id: 1 } },
      async handler({ params }) {
        return { body: await service.get(existingId(params.id)) };
      },
    }),
    route({
      method: 'delete',
      path: '/orders/:id',
      operationId: 'deleteOrder',
      summary: 'Delete an order (stock already taken is not given back)',
      description: 'The order and its lines are gone; a second delete answers 404.',
      tags,
      params: idParams,
      responses: { 204: { description: 'Deleted' } },
      errors: ['ORDER_NOT_FOUND'],
      example: { params: { id: 1 } },
      async handler({ params }) {
        await service.delete(existingId(params.id));
        return { status: 204 };
      },
    }),
  ];
}
