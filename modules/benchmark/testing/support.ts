// Test support for the benchmark module: the app on each database and bus, a JSON client, a start body, waiting for an end.
import type { Env } from '../../../kernel/config.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { deleteRedisKeys, ENGINES, REDIS_URL, startTestApp, tempDir, uniqueName, waitFor, type Service, type TestApp } from '../../../kernel/testing/index.ts';
import { benchmark } from '../index.ts';

export interface Setup {
  name: string;
  needs: Service[];
  prepare(): Promise<{ env: Env; cleanup(): Promise<void> }>;
}

const inProcessBus = async () => ({ env: {}, cleanup: async () => {} });
const redisBus = async () => {
  const prefix = uniqueName('cantons-test-benchmark');
  return { env: { EVENT_BUS_URL: REDIS_URL, BUS_STREAM_PREFIX: prefix }, cleanup: () => deleteRedisKeys(prefix) };
};
const BUSES = [
  { name: 'in-process bus', needs: [] as Service[], prepare: inProcessBus },
  { name: 'Redis Streams', needs: ['redis'] as Service[], prepare: redisBus },
];

/** Each engine (kernel/testing's ENGINES) with the in-process bus and with Redis Streams: SQLite first, the in-process bus first. */
export const SETUPS: Setup[] = BUSES.flatMap((bus) =>
  ENGINES.map((engine) => ({
    name: `${engine.name}, ${bus.name}`,
    needs: [...engine.needs, ...bus.needs],
    async prepare() {
      const [a, b] = [await engine.prepare('benchmark'), await bus.prepare()];
      return {
        env: { ...a.env, ...b.env },
        cleanup: async () => {
          await a.cleanup();
          await b.cleanup();
        },
      };
    },
  })),
);

/** Fast defaults for tests: millisecond documents, quick polling and sweeps. */
export const FAST: Env = {
  BENCHMARK_TARGET_DELAY_MS: '5-30',
  BUS_POLL_MS: '20',
  BUS_RETRY_BASE_MS: '10',
  BENCHMARK_SWEEP_MS: '50',
  BENCHMARK_HTTP_TIMEOUT_MS: '2000',
};

export type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any; text: string; headers: Headers }>;

export function api(base: string): Api {
  return async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
}

export interface BenchApp extends TestApp {
  api: Api;
  dataDir: string;
  env: Env;
}

export async function startBenchmarkApp(env: Env = {}, opts: { log?: Logger } = {}): Promise<BenchApp> {
  const dataDir = env.DATA_DIR ?? tempDir('cantons-benchmark-');
  const full = { ...FAST, DATA_DIR: dataDir, ...env };
  const app = await startTestApp({ env: full, modules: [benchmark], log: opts.log });
  return { ...app, api: api(app.url), dataDir, env: full };
}

export const PASSWORD = 'S3cret-Target-Pa55word';

export function startBody(targetUrl: string, extra: Record<string, unknown> = {}) {
  return {
    name: 'Benchmark Latency for release 5.11.0-rc1',
    benchmark_type: 'latency',
    target_infra: 'docker__local',
    target_url: targetUrl,
    target_eigen_platform_version: '5.11.0-rc1',
    username: 'adminsam',
    password: PASSWORD,
    ...extra,
  };
}

/** Polls GET /api/v1/benchmarks/:id until it is no longer running; returns that view. */
export async function waitForEnd(call: Api, id: string, timeoutMs = 15_000): Promise<any> {
  return waitFor(
    `benchmark ${id} to end`,
    async () => {
      const got = await call('GET', `/api/v1/benchmarks/${id}`);
      return got.status === 200 && got.body.status !== 'running' ? got.body : undefined;
    },
    timeoutMs,
    25,
  );
}
