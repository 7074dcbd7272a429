// The shop module: products and orders behind one gateway (the nameko-devex system), splittable into two roles.
import { defineModule } from '../../kernel/module.ts';
import { shopConfigSchema } from './config.ts';
import { ORDER_CREATED, productsContract } from './contract.ts';
import { migrations } from './migrations/index.ts';
import { createOrdersRole } from './orders/role.ts';
import { createProductsRole } from './products/role.ts';
import { shopSmoke } from './smoke.ts';

export { ORDER_CREATED, productsContract } from './contract.ts';

export const shop = defineModule({
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
});

export default shop;

/** For bench/scenarios/shop.ts: pre-seed a large catalogue without going through HTTP. */
export { catalogue, seedProducts, type SeedTarget } from './seed.ts';
