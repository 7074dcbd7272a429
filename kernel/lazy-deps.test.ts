// `npm start` on its embedded defaults loads no client library it does not use: etcd3, ioredis, pg and nodemailer
// are required where a configuration picks them (a third of the start-up when they were imported up front), and
// OpenTelemetry only where OTEL_* turns tracing on.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './testing/index.ts';
import { freePort, tempDir } from './spawn-app.ts';

// Not @opentelemetry/api: prom-client loads it at start anyway (its CPU metrics read exemplars through it).
const LAZY = ['etcd3', 'ioredis', 'pg', 'nodemailer', '@opentelemetry/sdk-trace-base', '@opentelemetry/core'];

// Starts every module in a child (a fresh module cache), then lists which of LAZY the CommonJS cache holds
// (ESM imports of these CommonJS packages land there too).
const SCRIPT = `
import { createRequire } from 'node:module';
import { bootstrap } from './kernel/bootstrap.ts';
import { listen } from './kernel/server.ts';
const kernel = bootstrap();
const running = await listen(kernel);
await kernel.start();
const req = createRequire(process.cwd() + '/');
const loaded = ${JSON.stringify(LAZY)}.filter((m) => req.cache[req.resolve(m)] !== undefined);
await running.shutdown();
console.log(JSON.stringify({ loaded }));
`;

it('starts every module on the defaults without loading etcd3, ioredis, pg, nodemailer or OpenTelemetry', async () => {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(await freePort()),
    GRPC_PORT: '0',
    DATA_DIR: tempDir('cantons-lazy-'),
    LOG_LEVEL: 'warn',
  };
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: ROOT, env, timeout: 60_000 });
  const { loaded } = JSON.parse(stdout.trim().split('\n').pop()!);
  assert.deepEqual(loaded, []);
});
