// etcd3, required where the etcd backend is built rather than imported: a cache on its memory backend (the
// default) never loads it, from source or from the bundled build (which would hoist an import to its top).
import { createRequire } from 'node:module';

export const etcd3 = createRequire(import.meta.url)('etcd3') as typeof import('etcd3');
