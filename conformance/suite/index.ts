// The behaviour suite: one ModuleSuite per module, in the order the matrix shows them.
import { benchmark } from './benchmark.ts';
import { cache } from './cache.ts';
import { crowdfund } from './crowdfund.ts';
import { events } from './events.ts';
import { shop } from './shop.ts';
import type { ModuleSuite } from './types.ts';

export const suites: ModuleSuite[] = [events, shop, cache, crowdfund, benchmark];
