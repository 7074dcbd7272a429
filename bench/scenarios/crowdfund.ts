// crowdfund over gRPC+TLS: GetProjectThreads against a bare grpc-js server, votes per second (counted exactly), propose-to-threads latency.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPackageDefinition, Server, ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { grpcLoad, threadsClient, unary } from '../grpc-load.ts';
import { Histogram } from '../histogram.ts';
import { check, cpuRatio, defineScenario, median, ratio, roundsFlag, type BenchIO, type BenchOptions, type CheckResult, type RunRecord } from '../scenario.ts';
import { makeCertificates, type TestCertificates } from '../../kernel/testing/certificates.ts';
import { freePort, ROOT, spawnCantons, stopServers, tempDir, type ServerProcess } from '../servers.ts';

const PROTO = join(ROOT, 'modules/crowdfund/threads.proto');
const LOADER = { keepCase: true, longs: Number, enums: String, defaults: true };
const THREADS_PER_PROJECT = 20;

type Certs = Pick<TestCertificates, 'ca' | 'serverCert' | 'serverKey'>;

/** The bare baseline as its own process (this file, run with CROWDFUND_BARE_GRPC set): TLS, one constant answer. */
async function spawnBare(certs: Certs, response: unknown, nodeOptions?: string): Promise<ServerProcess> {
  const port = await freePort();
  const dir = tempDir('cantons-bare-grpc-');
  writeFileSync(join(dir, 'response.json'), JSON.stringify(response));
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/scenarios/crowdfund.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      CROWDFUND_BARE_GRPC: join(dir, 'response.json'),
      PORT: String(port),
      CERT: certs.serverCert,
      KEY: certs.serverKey,
      ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    },
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', () => out.includes('listening') && resolve());
    proc.once('exit', () => reject(new Error(`bare gRPC server exited:\n${out}`)));
  });
  const stat = () =>
    readFileSync(`/proc/${proc.pid}/stat`, 'utf8')
      .slice(readFileSync(`/proc/${proc.pid}/stat`, 'utf8').lastIndexOf(')') + 2)
      .split(' ');
  return {
    name: 'bare grpc-js constant',
    url: `grpcs://127.0.0.1:${port}`,
    port,
    pid: proc.pid!,
    dataDir: dir,
    output: () => out,
    count: () => 0,
    cpuMs: () => {
      try {
        const f = stat();
        return (Number(f[11]) + Number(f[12])) * 10;
      } catch {
        return null;
      }
    },
    stop: async () => {
      proc.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

async function bareServer(): Promise<void> {
  const response = JSON.parse(readFileSync(process.env.CROWDFUND_BARE_GRPC!, 'utf8'));
  const pkg = loadPackageDefinition(loadSync(PROTO, LOADER)) as any;
  const server = new Server();
  server.addService(pkg.ThreadsService.service, { GetProjectThreads: (_call: unknown, cb: (e: null, v: unknown) => void) => cb(null, response) });
  const creds = ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(process.env.CERT!), private_key: readFileSync(process.env.KEY!) }], false);
  server.bindAsync(`127.0.0.1:${process.env.PORT}`, creds, () => console.log('listening'));
  process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}

/**
 * Node 20 refuses --cpu-prof in NODE_OPTIONS (and the servers' command lines are not ours), so a
 * preload written to `dir` does the same through node:inspector, over the measured runs only:
 * SIGUSR2 starts sampling (every 100 µs), the next SIGUSR2 writes `<pid>-<n>.cpuprofile` (Chrome
 * DevTools opens it) — warm-up, start-up and the other server's runs stay out of it.
 */
function cpuProfiler(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'cpu-profiler.mjs');
  writeFileSync(
    file,
    [
      `import { Session } from 'node:inspector';`,
      `import { writeFileSync } from 'node:fs';`,
      `const session = new Session();`,
      `session.connect();`,
      `session.post('Profiler.enable');`,
      `session.post('Profiler.setSamplingInterval', { interval: 100 });`,
      `let on = false, n = 0;`,
      `process.on('SIGUSR2', () => {`,
      `  if (!on) { on = true; session.post('Profiler.start'); return; }`,
      `  on = false;`,
      `  session.post('Profiler.stop', (err, r) => { if (!err) writeFileSync(${JSON.stringify(dir)} + '/' + process.pid + '-' + ++n + '.cpuprofile', JSON.stringify(r.profile)); });`,
      `});`,
    ].join('\n'),
  );
  return file;
}

/** Sends SIGUSR2 to `servers` under --profile around `measure` (see cpuProfiler), then gives the profiler a moment to write. */
async function profiled<T>(on: boolean, servers: ServerProcess[], measure: () => Promise<T>): Promise<T> {
  if (!on) return measure();
  const signal = () => {
    for (const s of servers) process.kill(s.pid, 'SIGUSR2');
  };
  signal();
  try {
    return await measure();
  } finally {
    signal();
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Proposes over HTTP, then polls GetProjectThreads until the proposal's threads are there: ms from the POST. */
async function proposeToVisible(baseUrl: string, client: any, samples: number, tag: string): Promise<Histogram> {
  const h = new Histogram();
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const res = await fetch(`${baseUrl}/projects/propose`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project_name: `${tag} ${i}`, tagline: 't', problems: ['p'], solutions: ['s'] }),
    });
    if (res.status !== 200) throw new Error(`propose answered ${res.status}: ${await res.text()}`);
    const { project_id } = (await res.json()) as { project_id: number };
    while ((await unary(client, 'GetProjectThreads', { project_id })).threads.length < 2) await new Promise((r) => setTimeout(r, 1));
    h.record(performance.now() - started);
  }
  return h;
}

async function run(opts: BenchOptions, io: BenchIO) {
  const rounds = roundsFlag(opts);
  const samples = opts.flags.samples === undefined ? 100 : Number(opts.flags.samples);
  // --only threads: the GetProjectThreads comparison alone (no votes, no propose latency).
  const threadsOnly = opts.flags.only === 'threads';
  // --profile DIR: both servers sampled by V8's CPU profiler, a .cpuprofile each written to DIR when they stop.
  const profile = typeof opts.flags.profile === 'string' ? { NODE_OPTIONS: `--import=${cpuProfiler(opts.flags.profile)}` } : undefined;
  const certs = makeCertificates();
  const tls = { GRPC_TLS_CERT_FILE: certs.serverCert, GRPC_TLS_KEY_FILE: certs.serverKey };
  const checks: CheckResult[] = [];
  const notes: string[] = [
    `GetProjectThreads answers ${THREADS_PER_PROJECT} threads; both servers serve TLS from the same certificate; one HTTP/2 channel carries the --connections concurrent calls`,
  ];
  const grpcPort = await freePort();
  const cantons = await spawnCantons({ MODULES: 'crowdfund', GRPC_PORT: String(grpcPort), ...tls, ...profile }, { name: 'cantons crowdfund' });
  const servers: ServerProcess[] = [cantons];
  try {
    const client = threadsClient(grpcPort, certs.ca);
    const half = THREADS_PER_PROJECT / 2;
    const messages = (kind: string) => Array.from({ length: half }, (_, i) => `${kind} ${i}: ${'words of a realistic length '.repeat(3)}`);
    const created = await fetch(`${cantons.url}/projects/propose`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project_name: 'bench', tagline: 'bench', tags: ['bench'], problems: messages('problem'), solutions: messages('solution') }),
    });
    const { project_id } = (await created.json()) as { project_id: number };
    let response: any;
    while ((response = await unary(client, 'GetProjectThreads', { project_id })).threads.length < THREADS_PER_PROJECT)
      await new Promise((r) => setTimeout(r, 20));
    const bare = await spawnBare(certs, response, profile?.NODE_OPTIONS);
    servers.push(bare);
    const bareClient = threadsClient(bare.port, certs.ca);
    const request = { project_id, limit: THREADS_PER_PROJECT };

    const ours: RunRecord[] = [];
    const theirs: RunRecord[] = [];
    const warm = Math.max(500, opts.warmupSec * 1000);
    for (let round = 1; round <= rounds; round++) {
      const suffix = rounds > 1 ? ` #${round}` : '';
      io.log(`round ${round}/${rounds}: GetProjectThreads, cantons then bare …`);
      await grpcLoad('warm-up', [cantons], () => unary(client, 'GetProjectThreads', request), opts.connections, warm);
      ours.push(
        await profiled(Boolean(profile), [cantons], () =>
          grpcLoad(
            `cantons GetProjectThreads${suffix}`,
            [cantons],
            () => unary(client, 'GetProjectThreads', request),
            opts.connections,
            opts.durationSec * 1000,
          ),
        ),
      );
      await grpcLoad('warm-up', [bare], () => unary(bareClient, 'GetProjectThreads', request), opts.connections, warm);
      theirs.push(
        await profiled(Boolean(profile), [bare], () =>
          grpcLoad(
            `bare grpc-js GetProjectThreads${suffix}`,
            [bare],
            () => unary(bareClient, 'GetProjectThreads', request),
            opts.connections,
            opts.durationSec * 1000,
          ),
        ),
      );
    }
    await stopServers(bare);
    servers.pop();
    bareClient.close();
    const ratios = [
      ratio('cantons ÷ bare grpc-js, GetProjectThreads over TLS', ours, theirs, 0.8),
      cpuRatio('bare ÷ cantons server CPU per call, GetProjectThreads', ours, theirs),
    ].filter((r) => r !== undefined);
    const medians = `median GetProjectThreads ok/s: cantons ${median(ours.map((r) => r.okRps))}, bare ${median(theirs.map((r) => r.okRps))}; median server CPU µs per call: cantons ${median(ours.map((r) => r.serverCpuUsPerOk ?? NaN))}, bare ${median(theirs.map((r) => r.serverCpuUsPerOk ?? NaN))}`;
    if (threadsOnly) {
      client.close();
      return { runs: [...ours, ...theirs], ratios, checks, notes: [...notes, medians] };
    }

    io.log('votes over gRPC …');
    const thread = response.threads[0].thread_id;
    const votes = await grpcLoad(
      'cantons Vote (every call counts)',
      [cantons],
      () => unary(client, 'Vote', { thread_id: thread, direction: 'UP' }),
      opts.connections,
      opts.durationSec * 1000,
    );
    const counted = (await unary(client, 'GetThread', { thread_id: thread })).up_votes;
    checks.push(
      check(
        'votes: up_votes equals the votes answered OK',
        counted === votes.ok && votes.errors.total === 0,
        `${counted} counted, ${votes.ok} answered OK, ${votes.errors.total} failed`,
      ),
    );
    const voter = response.threads[1].thread_id;
    let n = 0;
    const voterVotes = await grpcLoad(
      'cantons Vote (distinct voter_id)',
      [cantons],
      () => unary(client, 'Vote', { thread_id: voter, direction: 'DOWN', voter_id: `v${n++}` }),
      opts.connections,
      opts.durationSec * 1000,
    );
    const counted2 = (await unary(client, 'GetThread', { thread_id: voter })).down_votes;
    checks.push(
      check(
        'votes with voter_id: down_votes equals the votes answered OK',
        counted2 === voterVotes.ok && voterVotes.errors.total === 0,
        `${counted2} counted, ${voterVotes.ok} answered OK`,
      ),
    );

    io.log(`propose → threads visible, one process, ${samples} proposals …`);
    const local = await proposeToVisible(cantons.url, client, samples, 'one process');
    notes.push(`propose → threads visible, one process (in-process bus): ${fmt(local)}`);
    client.close();
    await stopServers(cantons);
    servers.shift();

    const redis = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
    io.log(`propose → threads visible, split over Redis Streams, ${samples} proposals …`);
    try {
      const shared = { DATA_DIR: tempDir('cantons-bench-split-'), EVENT_BUS_URL: redis, BUS_STREAM_PREFIX: `cantons-bench-${process.pid}` };
      const splitPort = await freePort();
      const threads = await spawnCantons({ ...shared, ...tls, MODULES: 'crowdfund.threads', GRPC_PORT: String(splitPort) }, { name: 'crowdfund.threads' });
      servers.push(threads);
      const projects = await spawnCantons(
        { ...shared, GRPC_TLS_CA_FILE: certs.ca, MODULES: 'crowdfund.projects', CROWDFUND_THREADS_URL: `grpcs://127.0.0.1:${splitPort}` },
        { name: 'crowdfund.projects' },
      );
      servers.push(projects);
      const splitClient = threadsClient(splitPort, certs.ca);
      const split = await proposeToVisible(projects.url, splitClient, samples, 'split');
      splitClient.close();
      notes.push(`propose → threads visible, split (outbox relay → Redis Streams → threads process): ${fmt(split)}`);
    } catch (err) {
      notes.push(`split latency not measured: ${(err as Error).message.split('\n')[0]} (needs Redis at ${redis})`);
    }

    return {
      runs: [...ours, ...theirs, votes, voterVotes],
      ratios,
      checks,
      notes: [...notes, medians],
    };
  } finally {
    await stopServers(...servers);
  }
}

const fmt = (h: Histogram) => {
  const s = h.summary();
  return `p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms (${s.count} proposals)`;
};

if (process.env.CROWDFUND_BARE_GRPC) void bareServer();

export default defineScenario({
  name: 'crowdfund',
  description:
    'crowdfund threads over gRPC+TLS: GetProjectThreads vs a bare grpc-js server (alternating --rounds, default 3, target ≥ 0.8×; --only threads for that alone; --profile DIR for a V8 CPU profile of each server over its measured runs), votes per second checked exactly, propose → threads visible p50/p99 in one process and split (--samples, default 100; Redis for the split)',
  defaults: { connections: 50, durationSec: 5 },
  flags: {
    only: { type: 'string', description: 'threads: the GetProjectThreads comparison alone' },
    rounds: { type: 'string', description: 'N alternating rounds of GetProjectThreads; the ratio is their median', default: '3' },
    samples: { type: 'string', description: 'N proposals timed until visible in threads (default 100)' },
    profile: { type: 'string', description: 'DIR: a V8 CPU profile of each server over its measured runs' },
  },
  run,
});
