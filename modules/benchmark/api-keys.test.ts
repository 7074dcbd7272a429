// API_KEYS and the built-in target: `npm start` with API_KEYS runs a whole benchmark (the client sends this process's
// key to its own target, the target's callbacks carry the key the upload carried), and no key goes to another target.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { spawnApp, waitFor, type SpawnedApp } from '../../kernel/testing/index.ts';
import { carriedApiKey, isThisProcess } from './api-keys.ts';
import { startBody } from './testing/support.ts';

const KEY1 = 'first-key-0123456789abcdef';
const KEY2 = 'second-key-0123456789abcdef';

describe('benchmark API keys: which address is this process', () => {
  it('loopback or HOST at PORT; another port, host or PORT 0 is not', () => {
    const k = { HOST: '127.0.0.1', PORT: 8080 };
    assert.ok(isThisProcess('http://127.0.0.1:8080/target', k));
    assert.ok(isThisProcess('http://localhost:8080', k));
    assert.ok(!isThisProcess('http://127.0.0.2:8080/target', k), 'another loopback address is another process');
    assert.ok(!isThisProcess('http://[::1]:8080/target', k), 'HOST 127.0.0.1 does not listen on ::1');
    assert.ok(isThisProcess('http://127.0.0.2:8080/target', { HOST: '0.0.0.0', PORT: 8080 }), 'a wildcard HOST listens on all of 127/8');
    assert.ok(!isThisProcess('http://127.0.0.1:8081/target', k));
    assert.ok(!isThisProcess('http://eigen.example.com:8080', k));
    assert.ok(!isThisProcess('http://127.0.0.1:80', { HOST: '127.0.0.1', PORT: 0 }));
    assert.ok(isThisProcess('http://api.internal:8080', { HOST: 'api.internal', PORT: 8080 }));
    assert.ok(isThisProcess('http://example:80/', { HOST: 'example', PORT: 80 }));
    assert.ok(!isThisProcess('not a url', k));
  });

  it('the key a request carried, read as the kernel reads it (Bearer first, then X-API-Key)', () => {
    assert.equal(carriedApiKey({ authorization: `Bearer ${KEY1}` }), KEY1);
    assert.equal(carriedApiKey({ 'x-api-key': KEY2 }), KEY2);
    assert.equal(carriedApiKey({ authorization: `bearer ${KEY1}`, 'x-api-key': KEY2 }), KEY1);
    assert.equal(carriedApiKey({ authorization: 'Basic abc' }), undefined);
    assert.equal(carriedApiKey({}), undefined);
  });
});

/** A document platform that is not cantons: logs in, creates a project, takes uploads, records every request's headers. */
async function foreignTarget(): Promise<{ host: string; seen: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/auth/v1/token/') res.setHeader('set-cookie', 'fakesession=abc; Path=/');
      res.end(req.url?.includes('projects') ? JSON.stringify({ document_type_id: 7 }) : '{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

describe('benchmark API keys: npm start with API_KEYS', () => {
  const apps: SpawnedApp[] = [];
  after(() => Promise.all(apps.map((a) => a.kill())));

  it('one process: a benchmark on the built-in target completes; no key, no benchmark; another target gets no key', async () => {
    const app = await spawnApp({
      API_KEYS: `${KEY1},${KEY2}`,
      MODULES: 'benchmark',
      BENCHMARK_TARGET_DELAY_MS: '5-30',
      BUS_POLL_MS: '20',
      BENCHMARK_SWEEP_MS: '50',
      BENCHMARK_HTTP_TIMEOUT_MS: '2000',
      BENCHMARK_HTTP_RETRIES: '0',
    });
    apps.push(app);
    const call = async (method: string, path: string, key: string | undefined, body?: unknown) => {
      const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
      if (key) headers.authorization = `Bearer ${key}`;
      const res = await fetch(app.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
    };

    // The kernel's rule, unchanged: the start route, the target and the callback route all need a key.
    assert.equal((await call('POST', '/api/v1/benchmarks/start', undefined, startBody(`${app.url}/target`))).status, 401);
    assert.equal((await call('GET', '/target/health', undefined)).status, 401);
    assert.equal(
      (
        await call('POST', '/api/v1/benchmarks/documents/', undefined, {
          document_name: 'x',
          eigen_document_id: '1',
          eigen_project_id: '1',
          benchmark_host_name: 'h',
          start_time: 1,
        })
      ).status,
      401,
    );

    // Started with the second key: the client sends this process's first key to its own target, whose callbacks
    // carry the key the upload carried (the first), so every step passes API_KEYS.
    const s = await call('POST', '/api/v1/benchmarks/start', KEY2, startBody(`${app.url}/target`, { documents: { count: 5 } }));
    assert.equal(s.status, 202, JSON.stringify(s.body));
    const view = await waitFor(
      'the benchmark to end',
      async () => {
        const got = await call('GET', `/api/v1/benchmarks/${s.body.benchmark_id}`, KEY1);
        return got.status === 200 && got.body.status !== 'running' ? got.body : undefined;
      },
      20_000,
      25,
    );
    assert.equal(view.status, 'completed', view.error);
    assert.deepEqual(view.progress, { done: 5, total: 5 });
    assert.equal((await call('GET', `/api/v1/benchmarks/${s.body.benchmark_id}/report.csv`, KEY2)).status, 200);

    // A target elsewhere (the original's Eigen, any URL a start body names) never sees this process's keys.
    const foreign = await foreignTarget();
    try {
      const f = await call('POST', '/api/v1/benchmarks/start', KEY1, startBody(foreign.host, { documents: { count: 2 }, timeout_seconds: 0.5 }));
      assert.equal(f.status, 202);
      await waitFor('the foreign target uploaded to', () => foreign.seen.length >= 3, 10_000);
      for (const h of foreign.seen) {
        assert.equal(h['x-api-key'], undefined);
        assert.ok(!JSON.stringify(h).includes(KEY1) && !JSON.stringify(h).includes(KEY2), 'no API key in any header');
      }
    } finally {
      await foreign.close();
    }
    assert.ok(!app.output().includes(KEY1) && !app.output().includes(KEY2), 'no key in the log');
    assert.equal(await app.stop(), 0);
  });
});
