// `docker run -p 8080:8080 cantons` starts: the compiled server, run as the Dockerfile's CMD with exactly the ENV of its
// image (read from the Dockerfile), is ready and passes every module's smoke test; gRPC leaves loopback only with TLS
// and a credential, as compose.yaml's threads service has them. No Docker daemon needed.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { build } from './build.ts';
import { kernelConfigSchema, parseConfig, type Env } from './config.ts';
import { allModules } from './registry.ts';
import { freePort, spawnApp, tempDir } from './spawn-app.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The ENV of the Dockerfile's last stage, the image (`ENV A=1 \ B="2"` and `ENV A 1`). */
function imageEnv(text: string): Env {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const env: Env = {};
  const last = lines.length - 1 - [...lines].reverse().findIndex((l) => /^FROM\s/i.test(l));
  for (const line of lines.slice(last)) {
    const args = /^ENV\s+(.*)$/i.exec(line.trim())?.[1];
    if (!args) continue;
    if (!/^\w+=/.test(args)) env[args.split(/\s+/)[0]] = args.replace(/^\S+\s+/, '');
    else for (const [, name, value] of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) env[name] = value.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

const image = imageEnv(dockerfile);

describe('the image with its defaults', () => {
  let dir: string;
  let entry: string;
  before(async () => {
    // The image's /app: dist/ from `npm run build`, node_modules and package.json (build.test.ts checks that the
    // production dependencies alone suffice; here the point is the environment).
    dir = tempDir('cantons-image-');
    await build(join(dir, 'dist'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    const cmd = JSON.parse(/^CMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    assert.deepEqual([cmd[0], cmd.at(-1)], ['node', 'start'], `CMD: ${cmd}`);
    entry = join(dir, cmd[1]);
  });

  it('reads the ENV of the image from the Dockerfile', () => {
    assert.equal(image.HOST, '0.0.0.0');
    assert.equal(image.NODE_ENV, 'production');
  });

  it('serves every module with exactly the image ENV, gRPC on loopback', async () => {
    // Only what would collide here changes: the ports (PORT is spawnApp's) and the data directory. LOG_LEVEL is the
    // image's (unset: info), not spawnApp's default.
    const env: Env = { ...image, DATA_DIR: tempDir(), GRPC_PORT: String(await freePort()), LOG_LEVEL: image.LOG_LEVEL };
    const app = await spawnApp(env, { entry, cwd: dir, readyTimeoutMs: 60_000 });
    try {
      for (const m of allModules) {
        assert.ok(m.smoke, `${m.name} has no smoke test to run against the image`);
        await m.smoke(app.url, () => {});
      }
      const lines = app
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      assert.equal(lines.find((l) => l.msg === 'gRPC listening')?.host, '127.0.0.1', app.output());
      assert.deepEqual(
        lines.filter((l) => l.level >= 50),
        [],
      );
    } finally {
      assert.equal(await app.stop(), 0, app.output());
    }
  });

  it("takes gRPC off loopback where certificates or a token make it safe: compose.yaml's services over the image", () => {
    const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    const grpcHost = (env: Env) => {
      // The settings that decide it; a secret file stands for its value.
      const settings = Object.fromEntries(Object.entries(env).filter(([k]) => /^(HOST|GRPC_\w+)$/.test(k)));
      if (env.RPC_TOKEN || env.RPC_TOKEN_FILE) settings.RPC_TOKEN = 'r'.repeat(24);
      return parseConfig({ kernel: kernelConfigSchema }, settings).kernel.GRPC_HOST;
    };
    assert.equal(grpcHost(image), '127.0.0.1');
    const threads = Object.entries(compose.services).filter(([, s]) => s.environment?.MODULES?.split(',').includes('crowdfund.threads'));
    assert.ok(threads.length, 'compose.yaml runs crowdfund.threads');
    for (const [name, s] of threads) assert.equal(grpcHost({ ...image, ...s.environment }), '0.0.0.0', name);
  });
});
