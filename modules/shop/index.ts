// The shop module: products and orders behind one gateway (the nameko-devex system), splittable into two roles.
// Shared at the root by both roles: page-size.ts (their lists' page size), stock-lines.ts (order lines as stock sees them).
import { defineModule } from '../../kernel/module.ts';
import { shopConfigSchema } from './config.ts';
import { ORDER_CREATED, productsContract } from './contract.ts';
import type { ShopDB } from './db.ts';
import { migrations } from './migrations/index.ts';
import { createOrdersRole } from './orders/role.ts';
import { createProductsRole } from './products/role.ts';
import { seedShop } from './seed.ts';
import { shopSmoke } from './smoke.ts';

export const shop = defineModule<typeof shopConfigSchema, ShopDB>({
  name: 'shop',
  description: 'Airship products (SQL or Redis) and orders (SQL); stock is held at order time and decremented by the order_created event.',
  config: shopConfigSchema,
  migrations,
  roles: {
    products: {
      provides: productsContract,
      subscribes: [ORDER_CREATED],
      create: createProductsRole,
    },
    orders: {
      uses: [productsContract],
      publishes: [ORDER_CREATED],
      create: createOrdersRole,
    },
  },
  smoke: shopSmoke,
  seed: seedShop,
});
