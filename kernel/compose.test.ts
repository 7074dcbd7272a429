// compose.yaml and the Dockerfile agree with the code: every variable is read by a config schema, every role URL
// names the service that runs the role, every role runs somewhere, and each service passes start-up's own checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { configKeys, kernelConfigSchema, parseConfig, type Env } from './config.ts';
import { allModules } from './registry.ts';
import { planRoles, roleUrlVar } from './role-plan.ts';

interface Service {
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  image?: string;
  build?: string;
  command?: unknown;
}
const compose = parse(readFileSync('compose.yaml', 'utf8'), { merge: true }) as { services: Record<string, Service>; secrets?: Record<string, unknown> };

// What the shell would put in for ${NAME:?…}, ${NAME:-…} and ${NAME}: a value each schema accepts.
const SAMPLES: Record<string, string> = { POSTGRES_PASSWORD: 'pw', RPC_TOKEN: 'r'.repeat(24), BENCHMARK_SECRET_KEY: 'ab'.repeat(32) };
const interpolate = (value: unknown): string => String(value).replace(/\$\{(\w+)(?::?[-?][^}]*)?\}/g, (_, name: string) => SAMPLES[name] ?? 'sample');

const apps = Object.entries(compose.services)
  .filter(([, s]) => s.environment?.MODULES)
  .map(([name, s]) => ({ name, service: s, env: Object.fromEntries(Object.entries(s.environment!).map(([k, v]) => [k, interpolate(v)])) as Env }));

const roleUrlVars = new Set(
  allModules.flatMap((m) =>
    Object.entries(m.roles)
      .filter(([, r]) => r.provides)
      .map(([role]) => roleUrlVar(`${m.name}.${role}`)),
  ),
);
const known = new Set([...configKeys(kernelConfigSchema), ...allModules.flatMap((m) => (m.config ? configKeys(m.config) : [])), ...roleUrlVars]);

/** The roles a service runs, by start-up's own planner (which also checks that every used role is reachable). */
const localRoles = (env: Env): string[] => planRoles(allModules, env.MODULES, env, Boolean(env.EVENT_BUS_URL)).local.map((r) => r.name);
const runsRole = (role: string) => apps.filter((a) => localRoles(a.env).includes(role)).map((a) => a.name);

describe('compose.yaml', () => {
  it('has the split deployment: Postgres, Redis with an append-only file, etcd, several cache instances', () => {
    for (const infra of ['postgres', 'redis', 'etcd']) assert.ok(compose.services[infra], `no ${infra} service`);
    assert.match(JSON.stringify(compose.services.redis.command), /"--appendonly","yes"/);
    assert.ok(runsRole('cache.api').length >= 2, 'several cache instances');
    assert.ok(apps.length >= 8, `${apps.length} app services`);
  });

  it('sets only variables a config schema reads (NAME_FILE for a NAME), each _FILE from a mounted secret or volume', () => {
    const problems: string[] = [];
    for (const { name, service, env } of apps) {
      for (const [key, value] of Object.entries(env)) {
        const base = key.endsWith('_FILE') && known.has(key.slice(0, -5)) ? key.slice(0, -5) : key;
        if (!known.has(base)) problems.push(`${name}: ${key} is read by no config schema`);
        if (base === key || !value) continue;
        const secret = /^\/run\/secrets\/([\w-]+)$/.exec(value)?.[1];
        const mounted = secret
          ? service.secrets?.includes(secret) && compose.secrets?.[secret]
          : service.volumes?.some((v) => value.startsWith(`${v.split(':')[1]}/`));
        if (!mounted) problems.push(`${name}: ${key}=${value} is neither a declared secret of the service nor under one of its volumes`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('places every role of every module in some service', () => {
    const unplaced = allModules.flatMap((m) => Object.keys(m.roles).map((r) => `${m.name}.${r}`)).filter((role) => !runsRole(role).length);
    assert.deepEqual(unplaced, []);
  });

  it("every service passes start-up's checks: the role plan, and the kernel's and its modules' schemas", () => {
    const problems: string[] = [];
    for (const { name, env } of apps) {
      try {
        const modules = new Set(localRoles(env).map((r) => r.split('.')[0]));
        const withSecrets: Env = { ...env };
        for (const key of Object.keys(env)) if (key.endsWith('_FILE')) withSecrets[key.slice(0, -5)] = SAMPLES[key.slice(0, -5)] ?? 'sample';
        parseConfig(
          { kernel: kernelConfigSchema, ...Object.fromEntries(allModules.filter((m) => m.config && modules.has(m.name)).map((m) => [m.name, m.config!])) },
          withSecrets,
        );
      } catch (err) {
        problems.push(`${name}: ${(err as Error).message}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('points every *_URL at a service of the file, and every role URL at the service running that role, on its port', () => {
    const problems: string[] = [];
    for (const { name, env } of apps) {
      for (const [key, value] of Object.entries(env)) {
        if (!key.endsWith('_URL') || !value) continue;
        for (const endpoint of value.split(',')) {
          const url = new URL(endpoint);
          if (!compose.services[url.hostname]) {
            problems.push(`${name}: ${key} names ${url.hostname}, not a service of compose.yaml`);
            continue;
          }
          const role = [...roleUrlVars].includes(key)
            ? allModules.flatMap((m) => Object.keys(m.roles).map((r) => `${m.name}.${r}`)).find((r) => roleUrlVar(r) === key)
            : key === 'BENCHMARK_CALLBACK_URL'
              ? 'benchmark.api'
              : undefined;
          if (!role) continue;
          const target = apps.find((a) => a.name === url.hostname);
          if (!target || !localRoles(target.env).includes(role)) {
            problems.push(`${name}: ${key} points at ${url.hostname}, which does not run ${role} (${runsRole(role).join(', ') || 'nobody'} does)`);
            continue;
          }
          const port = url.protocol.startsWith('grpc') ? (target.env.GRPC_PORT ?? '9090') : (target.env.RPC_PORT ?? target.env.PORT ?? '8080');
          if ((url.port || '80') !== port) problems.push(`${name}: ${key} uses port ${url.port}, ${url.hostname} listens on ${port}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('gives every process serving roles to others the RPC token, and serves gRPC with mutual TLS', () => {
    for (const { name, env } of apps) assert.ok(env.RPC_TOKEN || env.RPC_TOKEN_FILE, `${name} has no RPC_TOKEN`);
    for (const name of runsRole('crowdfund.threads')) {
      const env = apps.find((a) => a.name === name)!.env;
      assert.ok(env.GRPC_TLS_CERT_FILE && env.GRPC_TLS_KEY_FILE && env.GRPC_TLS_CA_FILE, `${name}: gRPC without mutual TLS`);
    }
  });
});

describe('Dockerfile', () => {
  const text = readFileSync('Dockerfile', 'utf8');
  it('builds in stages, installs only production dependencies at run time, runs node as PID 1 as a non-root user on 0.0.0.0', () => {
    assert.ok((text.match(/^FROM /gm) ?? []).length >= 3, 'multi-stage');
    assert.match(text, /RUN npm ci --omit=dev/);
    assert.match(text, /RUN npm run build/);
    assert.match(text, /^USER node$/m);
    assert.match(text, /HOST=0\.0\.0\.0/);
    assert.match(text, /^CMD \["node", "dist\/kernel\/cli\.js", "start"\]$/m);
    assert.doesNotMatch(text, /^(CMD|ENTRYPOINT) .*npm/m);
  });
});
