// The cache module's error codes (docs/errors.md tables them with the kernel's).
import { defineErrors } from '../../kernel/errors.ts';

export const cacheErrors = defineErrors('cache', {
  INVALID_KEY: {
    status: 400,
    description: 'The key is empty, has an empty, "." or ".." segment, a control character, bad percent-encoding, or is over 512 bytes.',
  },
  KEY_NOT_FOUND: { status: 404, description: 'No value is stored under this key.' },
  VALUE_TOO_LARGE: { status: 413, description: 'The value, as compact JSON, is larger than CACHE_MAX_VALUE_BYTES (1 MiB).' },
  CACHE_BACKEND_UNAVAILABLE: { status: 503, description: 'etcd did not answer; nothing was written. Retry later.' },
});
