// The cache module: a config cache whose every instance serves the same data, synchronised through etcd.
import { defineModule } from '../../kernel/module.ts';
import { createApiRole } from './api/role.ts';
import { cacheConfigSchema } from './config.ts';
import { smokeCache } from './smoke.ts';

export const cache = defineModule({
  name: 'cache',
  description: 'Distributed config cache: PUT/GET/DELETE /config/<key>; each instance keeps a copy kept current through etcd.',
  config: cacheConfigSchema,
  roles: {
    api: {
      create: createApiRole,
    },
  },
  smoke: smokeCache,
});
