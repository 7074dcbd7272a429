// The shop's error codes (docs/errors.md tables them with every other module's).
import { defineErrors } from '../../kernel/errors.ts';

export const shopErrors = defineErrors('shop', {
  PRODUCT_NOT_FOUND: { status: 404, description: 'No product with this id (GET/PATCH/DELETE /products/:id, or a line of a new order).' },
  PRODUCT_ALREADY_EXISTS: { status: 409, description: 'POST /products with an id already in the catalogue.' },
  OUT_OF_STOCK: { status: 409, description: 'A line of a new order asks for more than the stock not yet held by other orders.' },
  ORDER_NOT_FOUND: { status: 404, description: 'No order with this id.' },
  PRODUCTS_STORE_UNAVAILABLE: { status: 503, description: 'The Redis products store does not answer (SHOP_PRODUCTS_STORE=redis); retry later.' },
});
