// The module's settings: defaults, the delay range, the secret key's shapes, where the target is mounted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchmarkConfigSchema } from './config.ts';
import { targetPrefix } from './target/role.ts';

describe('benchmark config', () => {
  it('defaults: the original 1–5 s per document, logged notifications, /target', () => {
    const c = benchmarkConfigSchema.parse({});
    assert.deepEqual(c.BENCHMARK_TARGET_DELAY_MS, { min: 1000, max: 5000 });
    assert.equal(c.SMTP_URL, undefined);
    assert.equal(c.BENCHMARK_HTTP_RETRIES, 2);
    assert.equal(targetPrefix(c.BENCHMARK_TARGET_PREFIX, undefined), '/target');
  });

  it('BENCHMARK_MAX_DOCUMENTS: 1000 by default, up to 10,000, nothing past it', () => {
    assert.equal(benchmarkConfigSchema.parse({}).BENCHMARK_MAX_DOCUMENTS, 1000);
    assert.equal(benchmarkConfigSchema.parse({ BENCHMARK_MAX_DOCUMENTS: '10000' }).BENCHMARK_MAX_DOCUMENTS, 10_000);
    for (const bad of ['10001', '0', 'many']) assert.ok(!benchmarkConfigSchema.safeParse({ BENCHMARK_MAX_DOCUMENTS: bad }).success, bad);
  });

  it('a fixed delay, a reversed range, and what is refused', () => {
    assert.deepEqual(benchmarkConfigSchema.parse({ BENCHMARK_TARGET_DELAY_MS: '0' }).BENCHMARK_TARGET_DELAY_MS, { min: 0, max: 0 });
    assert.deepEqual(benchmarkConfigSchema.parse({ BENCHMARK_TARGET_DELAY_MS: '50-10' }).BENCHMARK_TARGET_DELAY_MS, { min: 10, max: 50 });
    const bad = benchmarkConfigSchema.safeParse({
      BENCHMARK_TARGET_DELAY_MS: 'fast',
      BENCHMARK_SECRET_KEY: 'short',
      BENCHMARK_TARGET_FAULT_SILENT: '2',
      SMTP_URL: 'http://mail',
      BENCHMARK_TARGET_PREFIX: 'target/',
    });
    assert.ok(!bad.success);
    assert.deepEqual(bad.error.issues.map((i) => i.path[0]).sort(), [
      'BENCHMARK_SECRET_KEY',
      'BENCHMARK_TARGET_DELAY_MS',
      'BENCHMARK_TARGET_FAULT_SILENT',
      'BENCHMARK_TARGET_PREFIX',
      'SMTP_URL',
    ]);
    assert.ok(!JSON.stringify(bad.error.issues).includes('short'), 'a refused secret is not echoed');
  });

  it('the secret key as 64 hex digits or base64 of 32 bytes', () => {
    assert.ok(benchmarkConfigSchema.safeParse({ BENCHMARK_SECRET_KEY: 'ab'.repeat(32) }).success);
    assert.ok(benchmarkConfigSchema.safeParse({ BENCHMARK_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') }).success);
  });

  it('the target alone is served at the root; beside the API under /target; a configured prefix wins', () => {
    assert.equal(targetPrefix(undefined, 'benchmark.target'), '');
    assert.equal(targetPrefix(undefined, 'benchmark.target,shop'), '');
    assert.equal(targetPrefix(undefined, 'benchmark'), '/target');
    assert.equal(targetPrefix(undefined, 'benchmark.api,benchmark.target'), '/target');
    assert.equal(targetPrefix('/eigen', 'benchmark.target'), '/eigen');
    assert.equal(targetPrefix('', 'benchmark'), '');
  });
});
