// Cache keys: decoding from the URL path, validation, and what the list cursor may hold.
import { z } from 'zod';
import { cacheErrors } from '../errors.ts';

export const MAX_KEY_BYTES = 512;

// C0 controls, DEL and C1 controls: invisible in logs and ambiguous between clients.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Returns why `key` is not a valid cache key, or undefined when it is. */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'the key is empty';
  if (CONTROL.test(key)) return 'the key contains a control character';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `the key is longer than ${MAX_KEY_BYTES} bytes`;
  for (const segment of key.split('/')) {
    if (segment === '') return 'the key has an empty segment (leading, trailing or double "/")';
    // HTTP clients and proxies collapse these, so such a key could not be addressed reliably.
    if (segment === '.' || segment === '..') return 'the key has a "." or ".." segment';
  }
  return undefined;
}

function assertKey(key: string): string {
  const problem = keyProblem(key);
  if (problem) throw cacheErrors.INVALID_KEY(`Invalid key: ${problem}`);
  return key;
}

/**
 * The key from the raw request path `/config/<key…>`, percent-decoded (so `a%2Fb` and `a/b` name
 * the same key). Taken from the raw path rather than the router's param because the router keeps
 * malformed escapes such as `%zz` as they are instead of rejecting them.
 */
export function keyFromPath(rawPath: string, mount = '/config/'): string {
  const raw = rawPath.startsWith(mount) ? rawPath.slice(mount.length) : '';
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw cacheErrors.INVALID_KEY('Invalid key: malformed percent-encoding');
  }
  return assertKey(key);
}

/** Encodes a key for a URL path: every segment escaped, the separating slashes kept. */
export function keyToPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** A valid key, as the list cursor holds one (the last key of the previous page). */
export const keySchema = z.string().refine((key) => keyProblem(key) === undefined, 'not a valid key');

/** Byte-wise comparison of UTF-8 keys: the order etcd lists them in, so both backends page alike. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
