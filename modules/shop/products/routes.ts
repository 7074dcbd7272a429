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

const notFound = (id: string) => shopErrors.PRODUCT_NOT_FOUND(`Product ID ${id} does not exist`);

export function productRoutes(store: ProductStore): RouteSpec[] {
  const tags = ['shop: products'];
  return [
    route({
      method: 'post',
      path: '/products',
      summary: 'Create a product (409 PRODUCT_ALREADY_EXISTS when the id is taken)',
      tags,
      body: productSchema,
      responses: { 200: z.object({ id: z.string() }) },
      async handler({ body }) {
        if (!(await store.create(body))) throw shopErrors.PRODUCT_ALREADY_EXISTS(`Product ID ${body.id} already exists`);
        return { body: { id: body.id } };
      },
    }),
    route({
      method: 'get',
      path: '/products',
      summary: `A page of products in id order; \`title\` filters by a case-insensitive substring, reading at most ${TITLE_WINDOW} products per page (a page may be short, even empty, with a next_cursor)`,
      tags,
      query: listQuery,
      responses: { 200: page },
      async handler({ query }) {
        const result = await store.list({ limit: query.limit, after: query.cursor, title: query.title });
        return { body: { items: result.items, total: result.total, next_cursor: nextCursor(result.last) } };
      },
    }),
    route({
      method: 'get',
      path: '/products/:id',
      summary: 'One product',
      tags,
      params: idParams,
      responses: { 200: productSchema },
      async handler({ params }) {
        const product = await store.get(params.id);
        if (!product) throw notFound(params.id);
        return { body: product };
      },
    }),
    route({
      method: 'patch',
      path: '/products/:id',
      summary: 'Change some fields of a product (the id stays)',
      tags,
      params: idParams,
      body: productPatchSchema,
      responses: { 200: productSchema },
      async handler({ params, body }) {
        const product = await store.update(params.id, body);
        if (!product) throw notFound(params.id);
        return { body: product };
      },
    }),
    route({
      method: 'delete',
      path: '/products/:id',
      summary: 'Delete a product; orders naming it still render, with product: null',
      tags,
      params: idParams,
      responses: { 204: null },
      async handler({ params }) {
        if (!(await store.delete(params.id))) throw notFound(params.id);
        return { status: 204 };
      },
    }),
  ];
}
