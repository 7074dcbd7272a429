// Configuration: every problem reported at once, .env and *_FILE secrets, redaction.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, configKeys, kernelConfigSchema, localUrl, parseConfig, readEnv, redactUrl } from './config.ts';
import { createLogger } from './logger.ts';
import { tempDir } from './testing/index.ts';

describe('config', () => {
  it('lists every problem of every schema in one error', () => {
    const err = (() => {
      try {
        parseConfig({ kernel: kernelConfigSchema, shop: z.object({ SHOP_X: z.enum(['a', 'b']) }) }, { PORT: 'eighty', DATABASE_URL: 'mysql://x', SHOP_X: 'c' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 3);
    assert.match(err.message, /PORT/);
    assert.match(err.message, /DATABASE_URL/);
    assert.match(err.message, /SHOP_X/);
  });

  it('applies defaults', () => {
    const { kernel } = parseConfig({ kernel: kernelConfigSchema }, {});
    assert.equal(kernel.PORT, 8080);
    assert.equal(kernel.DATA_DIR, 'data');
    assert.equal(kernel.BODY_LIMIT, 1024 * 1024);
  });

  it('refuses an empty number (PORT= would have listened on a random port) and names what unset means', () => {
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig({ kernel: kernelConfigSchema }, env);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    assert.deepEqual(problems({ PORT: '' }), ['PORT: empty; give a number or leave it unset (default 8080)']);
    assert.deepEqual(problems({ RPC_PORT: ' ' }), ['RPC_PORT: empty; give a number or leave it unset (then /rpc is on PORT)']);
    assert.deepEqual(problems({ BODY_LIMIT: 'lots' }), ['BODY_LIMIT: not a number']);
    assert.equal(parseConfig({ kernel: kernelConfigSchema }, { PORT: '0' }).kernel.PORT, 0, 'an explicit 0 is any free port');
  });

  it('reads LOG_FORMAT: auto by default, pretty or json', () => {
    assert.equal(parseConfig({ kernel: kernelConfigSchema }, {}).kernel.LOG_FORMAT, 'auto');
    assert.equal(parseConfig({ kernel: kernelConfigSchema }, { LOG_FORMAT: 'pretty' }).kernel.LOG_FORMAT, 'pretty');
    assert.throws(() => parseConfig({ kernel: kernelConfigSchema }, { LOG_FORMAT: 'xml' }), /LOG_FORMAT/);
  });

  it('names a listener by a URL a local reader can open', () => {
    assert.equal(localUrl('127.0.0.1', 8080), 'http://127.0.0.1:8080');
    assert.equal(localUrl('0.0.0.0', 80), 'http://127.0.0.1:80');
    assert.equal(localUrl('::', 8080), 'http://[::1]:8080');
    assert.equal(localUrl('fe80::1', 8080), 'http://[fe80::1]:8080');
  });

  it('reads .env under the environment and NAME_FILE secrets', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), '# comment\nPORT=9000\nLOG_LEVEL="debug"\n');
    writeFileSync(join(dir, 'pw'), 's3cret\n');
    const env = readEnv({ LOG_LEVEL: 'warn', ETCD_PASSWORD_FILE: join(dir, 'pw'), OTHER_FILE: '/nonexistent' }, ['ETCD_PASSWORD', 'PORT'], join(dir, '.env'));
    assert.equal(env.PORT, '9000');
    assert.equal(env.LOG_LEVEL, 'warn');
    assert.equal(env.ETCD_PASSWORD, 's3cret');
    assert.throws(() => readEnv({ X_FILE: join(dir, 'missing') }, ['X'], join(dir, 'none')), /X_FILE: cannot read/);
    assert.deepEqual(configKeys(kernelConfigSchema).slice(0, 3), ['PORT', 'HOST', 'DATA_DIR']);
  });

  it('parses .env as Node does (util.parseEnv): comments after values, quotes, export, multi-line values', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, '.env'),
      [
        'PORT=18183 # dev port',
        'export HOST=0.0.0.0',
        "CORS_ORIGINS='https://a.example # not a comment'",
        'API_KEYS="line-one-0123456789\nline-two"',
        '  # indented comment',
        'MODULES=shop',
        '',
      ].join('\n'),
    );
    const env = readEnv({ MODULES: 'events' }, [], join(dir, '.env'));
    assert.equal(env.PORT, '18183');
    assert.equal(env.HOST, '0.0.0.0');
    assert.equal(env.CORS_ORIGINS, 'https://a.example # not a comment');
    assert.equal(env.API_KEYS, 'line-one-0123456789\nline-two');
    assert.equal(env.MODULES, 'events', 'the environment wins over .env');
    assert.equal(parseConfig({ kernel: kernelConfigSchema }, env).kernel.PORT, 18183);
  });

  it('never logs secrets', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (s: string) => void lines.push(s) });
    log.info({ config: { DATABASE_URL: 'postgres://u:pw@h/db', password: 'pw' } }, 'config');
    assert.doesNotMatch(lines.join(''), /pw@|"pw"/);
    assert.equal(redactUrl('postgres://u:pw@h:5432/db'), 'postgres://u:***@h:5432/db');
  });
});
