// The cache module's configuration, read from the environment (USER_KEY_PREFIX is the original's name).
import { z } from 'zod';
import { envInt } from '../../kernel/config.ts';

const endpoints = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.url({ protocol: /^https?$/ })).min(1, 'at least one http(s):// endpoint'));

export const cacheConfigSchema = z
  .object({
    CACHE_BACKEND: z.enum(['memory', 'etcd']).optional().describe('memory (one process) or etcd; default etcd when ETCD_URL is set, else memory'),
    ETCD_URL: endpoints.optional().describe('comma-separated etcd client endpoints, http:// or https://'),
    ETCD_USERNAME: z.string().min(1).optional().describe('etcd user (with ETCD_PASSWORD)'),
    ETCD_PASSWORD: z.string().min(1).optional().describe('secret; ETCD_PASSWORD_FILE works too'),
    ETCD_CA_FILE: z.string().min(1).optional().describe('CA bundle to verify an https:// etcd'),
    ETCD_CERT_FILE: z.string().min(1).optional().describe('client certificate for etcd mutual TLS (with ETCD_KEY_FILE)'),
    ETCD_KEY_FILE: z.string().min(1).optional().describe('client key for etcd mutual TLS'),
    CACHE_KEY_PREFIX: z.string().optional().describe('namespace of every key in etcd; alias USER_KEY_PREFIX'),
    USER_KEY_PREFIX: z.string().optional().describe("the original's name for CACHE_KEY_PREFIX"),
    CACHE_MAX_VALUE_BYTES: envInt(1024 * 1024, 1).describe('largest value, as compact JSON in UTF-8'),
    CACHE_ETCD_TIMEOUT_MS: envInt(2000, 1).describe('deadline of one etcd request'),
    CACHE_RESYNC_BASE_MS: envInt(100, 1).describe('first relist backoff step (full jitter)'),
    CACHE_RESYNC_MAX_MS: envInt(5000, 1).describe('largest relist backoff step'),
    CACHE_WATCH_CHECK_MS: envInt(1000, 1).describe(
      "how often a live watch is checked against etcd (the instance's keepalive): a check unanswered within CACHE_ETCD_TIMEOUT_MS marks the copy stale at once; a watch that has not delivered what etcd held a check earlier is relisted",
    ),
  })
  .superRefine((c, ctx) => {
    if (c.CACHE_BACKEND === 'etcd' && !c.ETCD_URL) ctx.addIssue({ code: 'custom', path: ['ETCD_URL'], message: 'required when CACHE_BACKEND=etcd' });
    if (!!c.ETCD_USERNAME !== !!c.ETCD_PASSWORD)
      ctx.addIssue({ code: 'custom', path: ['ETCD_PASSWORD'], message: 'ETCD_USERNAME and ETCD_PASSWORD go together' });
    if (!!c.ETCD_CERT_FILE !== !!c.ETCD_KEY_FILE)
      ctx.addIssue({ code: 'custom', path: ['ETCD_KEY_FILE'], message: 'ETCD_CERT_FILE and ETCD_KEY_FILE go together' });
    if (c.CACHE_RESYNC_MAX_MS < c.CACHE_RESYNC_BASE_MS)
      ctx.addIssue({ code: 'custom', path: ['CACHE_RESYNC_MAX_MS'], message: 'must be at least CACHE_RESYNC_BASE_MS' });
  });

export type CacheConfig = z.output<typeof cacheConfigSchema>;

/**
 * What the schema leaves to be worked out: the etcd endpoints when the etcd backend is in use
 * (CACHE_BACKEND, else etcd whenever ETCD_URL is set; undefined: the memory backend) and the key prefix.
 */
export function cacheSetup(c: CacheConfig): { etcdUrl: string[] | undefined; keyPrefix: string } {
  return {
    etcdUrl: c.CACHE_BACKEND === 'memory' ? undefined : c.ETCD_URL,
    keyPrefix: c.CACHE_KEY_PREFIX ?? c.USER_KEY_PREFIX ?? 'cantons/cache/',
  };
}
