// Every module the kernel knows: the only place the kernel imports modules (their index.ts).
// A new module is one import and one entry here (docs/adding-a-module.md).
import type { ModuleDefinition } from './module.ts';
import { shop } from '../modules/shop/index.ts';
import { cache } from '../modules/cache/index.ts';
import { events } from '../modules/events/index.ts';
import { benchmark } from '../modules/benchmark/index.ts';
import { crowdfund } from '../modules/crowdfund/index.ts';

export const allModules: ModuleDefinition<any>[] = [shop, cache, events, benchmark, crowdfund];
