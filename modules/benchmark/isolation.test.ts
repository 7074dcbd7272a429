// One slow benchmark slows no one else: while a target hangs, answers slowly or answers 500s, and while the SMTP server
// hangs, another benchmark's start, list and callbacks keep their latency and it completes in its normal time — on
// SQLite (one write lock) and on Postgres. The calls to targets and to SMTP hold no transaction (docs/decisions/0014).
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gate, waitFor } from '../../kernel/testing/index.ts';
import { startSmtp, type TestSmtp } from './testing/smtp.ts';
import { SETUPS, startBenchmarkApp, startBody, waitForEnd, type BenchApp } from './testing/support.ts';

/** A TCP server on a free loopback port; `onSocket` decides what it does with each connection. */
async function listen(onSocket: (s: Socket) => void): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server, sockets };
}

/** An HTTP target that answers every request after `delayMs` with `status` and a body that must never reach a client. */
async function httpTarget(status: number, delayMs: number) {
  const server = createHttpServer((req, res) => {
    req.resume();
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'text/plain', 'set-cookie': 's=1' });
      res.end(`internal detail ${status} from the target`);
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return { port: (server.address() as { port: number }).port, close };
}

const p99 = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.ceil(0.99 * samples.length) - 1];

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

for (const setup of SETUPS.filter((s) => !s.needs.includes('redis'))) {
  describe(`benchmark isolation (${setup.name})`, await gate(...setup.needs), () => {
    let env: Awaited<ReturnType<typeof setup.prepare>>;
    let smtp: TestSmtp;
    before(async () => {
      env = await setup.prepare();
      smtp = await startSmtp();
    });
    after(async () => {
      await smtp.close();
      await env.cleanup();
    });

    async function start(app: BenchApp, target: string, extra: Record<string, unknown> = {}) {
      const [ms, res] = await timed(() => app.api('POST', '/api/v1/benchmarks/start', startBody(target, { documents: { count: 20 }, ...extra })));
      assert.equal(res.status, 202, res.text);
      return { id: res.body.benchmark_id as string, ms };
    }

    /** Runs a benchmark on the built-in target, measuring its start, lists and callbacks meanwhile. */
    async function healthyRun(app: BenchApp) {
      const startMs: number[] = [];
      const listMs: number[] = [];
      const callbackMs: number[] = [];
      const t0 = performance.now();
      const b = await start(app, `${app.url}/target`, { notify: ['qa@example.com'] });
      startMs.push(b.ms);
      let ended = false;
      const probe = (async () => {
        for (let i = 0; !ended || i < 40; i++) {
          const [l, list] = await timed(() => app.api('GET', '/api/v1/benchmarks?limit=20'));
          assert.equal(list.status, 200);
          listMs.push(l);
          // A callback for no benchmark's document still runs the callbacks' transaction (answered 202, unmatched).
          const [c, cb] = await timed(() =>
            app.api('POST', '/api/v1/benchmarks/documents/', {
              document_name: `probe-${i}.txt`,
              eigen_document_id: 'x',
              eigen_project_id: 'none',
              benchmark_host_name: 'probe:1',
              start_time: 1,
              end_time: null,
            }),
          );
          assert.equal(cb.status, 202); // matches no benchmark: accepted as unmatched, as the original did
          callbackMs.push(c);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      let view: any;
      try {
        view = await waitForEnd(app.api, b.id, 20_000);
      } finally {
        ended = true;
        await probe;
      }
      const tookMs = performance.now() - t0;
      assert.equal(view.status, 'completed', view.error);
      return { id: b.id, tookMs, startMs, listMs, callbackMs };
    }

    it('a hanging, a slow and a failing target, and a hanging SMTP server, delay only their own benchmark', async () => {
      const app = await startBenchmarkApp({
        ...env.env,
        SMTP_URL: smtp.url,
        BENCHMARK_TARGET_DELAY_MS: '20-60',
        BENCHMARK_HTTP_TIMEOUT_MS: '15000',
        BENCHMARK_HTTP_RETRIES: '0',
        BENCHMARK_SMTP_TIMEOUT_MS: '15000',
      });
      const hanging = await listen(() => undefined);
      const slow = await httpTarget(200, 1500);
      const failing = await httpTarget(500, 0);
      const garbage = await listen((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n'));
      try {
        const normal = await healthyRun(app);

        smtp.hang = true;
        const a = await start(app, `127.0.0.1:${hanging.port}`, { notify: ['qa@example.com'] });
        const slowRun = await start(app, `127.0.0.1:${slow.port}`);
        const failed = await start(app, `127.0.0.1:${failing.port}`);
        const notHttp = await start(app, `127.0.0.1:${garbage.port}`);
        await waitFor('the hanging target to be called', () => hanging.sockets.size > 0, 5000);
        const beside = await healthyRun(app);

        assert.equal((await app.api('GET', `/api/v1/benchmarks/${a.id}`)).body.status, 'running', 'the hanging target still holds its own benchmark');
        for (const [what, samples] of Object.entries({ start: beside.startMs, list: beside.listMs, callback: beside.callbackMs })) {
          assert.ok(p99(samples) < 200, `${what} p99 ${p99(samples).toFixed(0)} ms beside a hanging target (${samples.length} samples)`);
        }
        assert.ok(beside.tookMs < normal.tookMs * 2 + 1000, `the healthy benchmark took ${beside.tookMs.toFixed(0)} ms, alone ${normal.tookMs.toFixed(0)} ms`);

        // A refusal, a non-HTTP service and a hanging SMTP server: the client reads the step only, the same for each.
        const errors = await Promise.all([failed, notHttp].map(async (b) => (await waitForEnd(app.api, b.id, 10_000)).error));
        assert.deepEqual(errors, ['login: the target call failed', 'login: the target call failed']);
        const report = await app.api('GET', `/api/v1/benchmarks/${failed.id}/report.json`);
        assert.ok(!report.text.includes('internal detail'), 'nothing the target answered is in a report');

        // SMTP back: the pending emails go out by themselves, one each.
        assert.equal(smtp.mails.filter((m) => m.raw.includes(beside.id)).length, 0, 'no email while SMTP hangs');
        smtp.hang = false;
        await waitFor('the emails after SMTP recovered', () => smtp.mails.some((m) => m.raw.includes(`benchmark-${beside.id}@cantons`)), 30_000);
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(smtp.mails.filter((m) => m.raw.includes(`benchmark-${beside.id}@cantons`)).length, 1);
        // The slow target answered its login and then no project: a failure of its own, in its own time.
        assert.equal((await waitForEnd(app.api, slowRun.id, 10_000)).error, 'create project: the target call failed');
      } finally {
        smtp.hang = false;
        for (const s of hanging.sockets) s.destroy();
        hanging.server.close();
        garbage.server.close();
        await slow.close();
        await failing.close();
        await app.close();
      }
    });
  });
}
