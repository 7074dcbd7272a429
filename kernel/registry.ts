// Every module the kernel knows: the only place the kernel imports modules (their index.ts).
import type { ModuleDefinition } from './module.ts';
import { shop } from '../modules/shop/index.ts';

export const allModules: ModuleDefinition<any>[] = [
  shop,
  // modules register here, one import each: events, shop, cache
];
