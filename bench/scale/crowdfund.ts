// Scale, crowdfund: N projects (a tag and a problem and a solution each) written straight into crowdfund.sqlite, one of
// them with 100 threads; the first page, a page deep in the cursor, that project, and votes on one hot thread over gRPC.
import { encodeCursor } from '../../kernel/http/cursor.ts';
import { makeCertificates } from '../../kernel/testing/certificates.ts';
import { check, checkedGet, measure, type BenchIO, type BenchOptions, type CheckResult, type MeasureLoad, type RunRecord } from '../scenario.ts';
import { freePort, spawnCantons, stopServers, tempDir } from '../servers.ts';
import { crowdfund } from '../../modules/crowdfund/index.ts';
import { grpcLoad, threadsClient, unary } from '../grpc-load.ts';
import { count, fill, migrateModule, openForSeeding, seconds } from './seed.ts';
import type { ScaleSeries } from './series.ts';

export const HOT_THREADS = 100;
const MESSAGE = 'words of a realistic length for a thread message; '.repeat(3).trim();

/** The project that has HOT_THREADS threads: the middle one. */
export const hotProject = (projects: number) => Math.max(1, Math.ceil(projects / 2));

/** `projects` projects with ids 1…N, one tag each, a problem and a solution thread each, and the hot project's threads. */
export async function seedCrowdfund(dataDir: string, projects: number, log: (line: string) => void): Promise<{ seconds: number; hotThread: number }> {
  const file = await migrateModule(crowdfund, dataDir);
  const { db, done } = openForSeeding(file);
  const t0 = performance.now();
  const created = '2024-01-01T00:00:00.000Z';
  const hot = hotProject(projects);
  let hotThread = 0;
  try {
    const project = db.prepare('insert into projects (id, project_name, tagline, created_at) values (?, ?, ?, ?)');
    const tag = db.prepare('insert into tags (project_id, tag) values (?, ?)');
    const thread = db.prepare('insert into threads (project_id, thread_type, message, created_at) values (?, ?, ?, ?)');
    fill(
      db,
      projects,
      (i) => {
        const id = i + 1;
        project.run(id, `project ${id}`, `tagline of project ${id}`, created);
        tag.run(id, `tag-${id % 100}`);
        if (id === hot) {
          for (let t = 0; t < HOT_THREADS; t++) {
            const { lastInsertRowid } = thread.run(id, t % 2 ? 'solution' : 'problem', `${t}: ${MESSAGE}`, created);
            if (t === 0) hotThread = Number(lastInsertRowid);
          }
        } else {
          thread.run(id, 'problem', `problem: ${MESSAGE}`, created);
          thread.run(id, 'solution', `solution: ${MESSAGE}`, created);
        }
      },
      log,
      'projects',
      20_000,
    );
  } finally {
    done();
  }
  return { seconds: (performance.now() - t0) / 1000, hotThread };
}

export async function scaleCrowdfund(
  sizes: number[],
  series: ScaleSeries,
  opts: BenchOptions,
  io: BenchIO,
): Promise<{ runs: RunRecord[]; checks: CheckResult[] }> {
  const runs: RunRecord[] = [];
  const checks: CheckResult[] = [];
  const certs = makeCertificates();
  for (const size of sizes) {
    const dataDir = tempDir('cantons-scale-crowdfund-');
    io.log(`crowdfund, ${count(size)} projects: seeding …`);
    const seeded = await seedCrowdfund(dataDir, size, io.log);
    io.log(`crowdfund, ${count(size)} projects: seeded in ${seconds(seeded.seconds)}; starting the server …`);
    const grpcPort = await freePort();
    const server = await spawnCantons(
      { MODULES: 'crowdfund', DATA_DIR: dataDir, GRPC_PORT: String(grpcPort), GRPC_TLS_CERT_FILE: certs.serverCert, GRPC_TLS_KEY_FILE: certs.serverKey },
      { name: 'cantons crowdfund', readyTimeoutMs: 120_000 },
    );
    const client = threadsClient(grpcPort, certs.ca);
    try {
      const hot = hotProject(size);
      const deep = encodeCursor(Math.floor(size / 2) + 1);
      const parts: Array<[string, MeasureLoad]> = [
        [
          'GET /projects first page',
          checkedGet('/projects?limit=20', 'GET /projects', (b) => b?.items?.length === Math.min(20, size) && b.items[0].project_id === size),
        ],
        [
          'GET /projects deep page',
          checkedGet(
            `/projects?limit=20&cursor=${deep}`,
            'GET /projects?cursor',
            (b) => b?.items?.[0]?.project_id === Math.floor(size / 2) && !b.threads_unavailable,
          ),
        ],
        [
          `GET /projects/:id with ${HOT_THREADS} threads`,
          checkedGet(`/projects/${hot}?threads_limit=${HOT_THREADS}`, 'GET /projects/:id', (b) => b?.threads?.length === HOT_THREADS),
        ],
      ];
      for (const [name, load] of parts) {
        const run = await measure(`crowdfund ${name}, ${count(size)} projects`, [server], load, opts, io);
        runs.push(run);
        series.addRun('crowdfund', name, 'projects', size, run);
        checks.push(check(`${run.label}: no errors`, run.errors.total === 0, `${run.errors.total} of ${run.requests}${sample(run)}`));
      }
      const before = (await unary(client, 'GetThread', { thread_id: seeded.hotThread })).up_votes as number;
      const votes = await grpcLoad(
        `crowdfund gRPC Vote on one hot thread, ${count(size)} projects`,
        [server],
        () => unary(client, 'Vote', { thread_id: seeded.hotThread, direction: 'UP' }),
        opts.connections,
        opts.durationSec * 1000,
        opts.warmupSec * 1000,
      );
      runs.push(votes);
      const counted = (await unary(client, 'GetThread', { thread_id: seeded.hotThread })).up_votes - before;
      checks.push(
        check(
          `${votes.label}: every vote answered OK is counted`,
          votes.errors.total === 0 && counted === votes.ok + votes.warmup.ok,
          `${counted} counted, ${votes.ok + votes.warmup.ok} answered OK, ${votes.errors.total} failed`,
        ),
      );
      series.add(
        { module: 'crowdfund', name: 'hot-thread votes per second', unit: 'votes/s', sizeUnit: 'projects', kind: 'request', better: 'higher' },
        size,
        votes.okRps,
      );
      series.addRun('crowdfund', 'hot-thread vote', 'projects', size, votes);
    } finally {
      client.close();
      await stopServers(server);
    }
  }
  return { runs, checks };
}

const sample = (run: RunRecord) => {
  const first = Object.keys(run.errors.samples)[0];
  return first ? `; e.g. ${first}` : '';
};
