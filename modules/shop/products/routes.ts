// HTTP routes of the products role: the original gateway's /products paths plus list, patch and delete.
import { z } from 'zod';
import { cursorField, nextCursor } from '../../../kernel/http/cursor.ts';
import { route, type RouteSpec } from '../../../kernel/http/route.ts';
import { productId, productPatchSchema, productSchema } from '../contract.ts';
import { shopErrors } from '../errors.ts';
import { limitField } from '../page-size.ts';
import { TITLE_WINDOW, type ProductStore } from './store.ts';

const idParams = z.object({ id: z.string().min(1).max(1000) });
const listQuery = z.object({
  limit: limitField,
  // The last product id of the previous page.
  cursor: cursorField(productId),
  title: z.string().min(1).max(200).optional(),
});
const page = z.object({
  items: z.array(productSchema),
  total: z.number().nullable().describe('every product; null with `title` (counting the matches would read the whole catalogue)'),
  next_cursor: z.string().nullable(),
});

// The shared component of /openapi.json, for every response carrying one product.
const product = productSchema.meta({ id: 'Product', description: 'a spaceship of the catalogue' });
// What the examples of /openapi.json create, read, change and delete, in that order.
const EXAMPLE_ID = 'falcon-9';

const notFound = (id: string) => shopErrors.PRODUCT_NOT_FOUND(`Product ID ${id} does not exist`);

export function productRoutes(store: ProductStore): RouteSpec[] {
  const tags = ['shop: products'];
  return [
    route({
      method: 'post',
      path: '/products',
      operationId: 'createProduct',
      summary: 'Create a product (409 PRODUCT_ALREADY_EXISTS when the id is taken)',
      description: 'The client chooses the id. `in_stock` is what orders may take; an order holds stock at once.',
      tags,
      body: productSchema,
      responses: { 200: { description: "Created: the product's id", schema: z.object({ id: z.string() }) } },
      errors: ['PRODUCT_ALREADY_EXISTS', 'PRODUCTS_STORE_UNAVAILABLE'],
      example: { body: { id: EXAMPLE_ID, title: 'Falcon 9', passenger_capacity: 7, maximum_speed: 27000, in_stock: 10 } },
      async handler({ body }) {
        if (!(await store.create(body))) throw shopErrors.PRODUCT_ALREADY_EXISTS(`Product ID ${body.id} already exists`);
        return { body: { id: body.id } };
      },
    }),
    route({
      method: 'get',
      path: '/products',
      summary: `A page of products in id order; \`title\` filters by a case-insensitive substring, reading at most ${TITLE_WINDOW} products per page (a page may be short, even empty, with a next_cursor)`,
      operationId: 'listProducts',
      description: 'Pass `next_cursor` back as `cursor` for the next page; it is null on the last page.',
      tags,
      query: listQuery,
      responses: { 200: { description: 'A page of products', schema: page } },
      errors: ['PRODUCTS_STORE_UNAVAILABLE'],
      example: { query: { limit: 20 } },
      async handler({ query }) {
        const result = await store.list({ limit: query.limit, after: query.cursor, title: query.title });
        return { body: { items: result.items, total: result.total, next_cursor: nextCursor(result.last) } };
      },
    }),
    route({
      method: 'get',
      path: '/products/:id',
      operationId: 'getProduct',
      summary: 'One product',
      description: 'The product as stored, with its stock not yet taken by orders.',
      tags,
      params: idParams,
      responses: { 200: { description: 'The product', schema: product } },
      errors: ['PRODUCT_NOT_FOUND', 'PRODUCTS_STORE_UNAVAILABLE'],
      example: { params: { id: EXAMPLE_ID } },
      async handler({ params }) {
        const product = await store.get(params.id);
        if (!product) throw notFound(params.id);
        return { body: product };
      },
    }),
    route({
      method: 'patch',
      path: '/products/:id',
      operationId: 'updateProduct',
      summary: 'Change some fields of a product (the id stays)',
      description: 'Only the fields sent change; at least one is needed.',
      tags,
      params: idParams,
      body: productPatchSchema,
      responses: { 200: { description: 'The product as changed', schema: product } },
      errors: ['PRODUCT_NOT_FOUND', 'PRODUCTS_STORE_UNAVAILABLE'],
      example: { params: { id: EXAMPLE_ID }, body: { in_stock: 12 } },
      async handler({ params, body }) {
        const product = await store.update(params.id, body);
        if (!product) throw notFound(params.id);
        return { body: product };
      },
    }),
    route({
      method: 'delete',
      path: '/products/:id',
      operationId: 'deleteProduct',
      summary: 'Delete a product; orders naming it still render, with product: null',
      description: 'New orders for it are refused (PRODUCT_NOT_FOUND).',
      tags,
      params: idParams,
      responses: { 204: { description: 'Deleted' } },
      errors: ['PRODUCT_NOT_FOUND', 'PRODUCTS_STORE_UNAVAILABLE'],
      example: { params: { id: EXAMPLE_ID } },
      async handler({ params }) {
        if (!(await store.delete(params.id))) throw notFound(params.id);
        return { status: 204 };
      },
    }),
  ];
}
