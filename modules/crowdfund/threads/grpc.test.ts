// crowdfund.threads over real gRPC with mutual TLS, on both dialects: the original's client unchanged, every rpc, bad input, exact votes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { Client, credentials, status } from '@grpc/grpc-js';
import pg from 'pg';
import { pino } from 'pino';
import { sendRaw } from '../../../kernel/grpc/testing/raw.ts';
import { ENGINES, gate, PG_URL } from '../../../kernel/testing/index.ts';
import { fastEncoder } from '../../../kernel/transport/grpc-encode.ts';
import { loadService } from '../../../kernel/transport/grpc-proto.ts';
import { threadsContract } from '../contract.ts';
import {
  certificates,
  checkAnswer,
  grpcClient,
  ORIGINAL_PROTO,
  proposeAndWait,
  startCrowdfund,
  THREADS_PROTO,
  unary,
  type Crowdfund,
} from '../testing/index.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

it('the tests check every answer of the server against the contract (the server does not, per call)', () => {
  const thread = {
    thread_id: 1,
    project_id: 1,
    thread_type: 2,
    message: 'm',
    created_at: { seconds: 1_700_000_000, nanos: 0 },
    up_votes: 0,
    down_votes: 0,
    parent_thread_id: 0,
    reply_count: 0,
  };
  checkAnswer('GetProjectThreads', { threads: [thread], next_cursor: '' });
  assert.throws(
    () => checkAnswer('GetProjectThreads', { threads: [{ ...thread, thread_id: 0 }], next_cursor: '' }),
    /GetProjectThreads answered .*threads\.0\.thread_id/,
  );
  assert.throws(() => checkAnswer('GetThread', { ...thread, thread_type: 7 }), /thread_type/);
});

it('every threads answer encoded straight from the facade object is byte for byte what proto-loader writes', () => {
  const loaded = loadService(threadsContract);
  const thread = (over: object = {}) => ({
    thread_id: 1,
    project_id: 2,
    thread_type: 2,
    message: 'héllo ✓',
    created_at: '2026-01-02T03:04:05.678Z',
    up_votes: 0,
    down_votes: 3,
    parent_thread_id: 0,
    reply_count: 1,
    ...over,
  });
  const answers: Record<string, unknown[]> = {
    getProjectThreads: [
      { threads: [], next_cursor: '' },
      { threads: [thread(), thread({ thread_id: 2, message: '', thread_type: 0 })], next_cursor: 'Mg' },
    ],
    updateThreads: [{ threads: [thread({ parent_thread_id: 1 })] }],
    vote: [
      { up_votes: 0, down_votes: 0 },
      { up_votes: 2 ** 40, down_votes: 1 },
    ],
    getSubThreads: [{ threads: [thread()], next_cursor: '' }],
    getThread: [thread()],
    countThreads: [{ counts: [{ project_id: 1, problem: 1, solution: 2, comment: 0 }] }, { counts: [] }],
  };
  for (const method of Object.keys(threadsContract.methods) as Array<keyof typeof answers>) {
    const rpc = loaded.definition[method[0].toUpperCase() + method.slice(1)] as any;
    const encode = fastEncoder(loaded.packageDefinition, rpc.responseType.type);
    assert.ok(encode, `${method} has an encoder`);
    for (const answer of answers[method])
      assert.deepEqual(encode(answer), Buffer.from(rpc.responseSerialize(loaded.codecs[method].responseToWire(answer))), method);
  }
});

for (const dialect of ENGINES) {
  describe(`crowdfund.threads over gRPC (${dialect.name})`, await gate(...dialect.needs), () => {
    let app: Crowdfund;
    // What the server logs: an error-level line is for a bug of ours, never for input or storage.
    const lines: Array<{ level: number; msg: string; rpc?: string }> = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const grpcErrorLines = () => lines.filter((l) => l.level >= 50 && l.rpc);
    let original: any;
    let full: any;
    let projectId: number;
    let otherProject: number;
    const rows = async (table: string) =>
      Number(
        (
          await app.kernel.databases
            .get('crowdfund')!
            .db.selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    before(async () => {
      app = await startCrowdfund(dialect, {}, log);
      original = grpcClient(ORIGINAL_PROTO, app.grpcPort);
      full = grpcClient(THREADS_PROTO, app.grpcPort);
      projectId = (await proposeAndWait(app.api, 'Bike lanes')).id;
      otherProject = (await proposeAndWait(app.api, 'Night trains')).id;
    });
    after(async () => {
      original?.close();
      full?.close();
      await app?.close();
    });

    it('a client built from the original proto alone reads and writes threads, unchanged', async () => {
      const read = await unary(original, 'GetProjectThreads', { project_id: projectId, limit: 10 });
      assert.equal(read.err, null);
      assert.deepEqual(
        read.value.threads.map((t: any) => [t.project_id, t.thread_type, t.message]),
        [
          [projectId, 2, 'too many cars'],
          [projectId, 1, 'more bikes'],
          [projectId, 1, 'more trams'],
        ],
      );
      assert.ok(Number(read.value.threads[0].created_at.seconds) > 1_700_000_000);
      assert.deepEqual(Object.keys(read.value.threads[0]).sort(), ['created_at', 'message', 'project_id', 'thread_id', 'thread_type']);

      // thread_id 0 inserts ("adds new ones"); a set thread_id rewrites that thread ("updates content").
      const first = read.value.threads[0].thread_id;
      const written = await unary(original, 'UpdateThreads', {
        project_id: projectId,
        threads: [
          { thread_type: 0, message: 'a comment' },
          { thread_id: first, message: 'far too many cars' },
        ],
      });
      assert.equal(written.err, null);
      assert.deepEqual(written.value, {});
      const again = await unary(original, 'GetProjectThreads', { project_id: projectId, limit: 0 });
      assert.deepEqual(
        again.value.threads.map((t: any) => t.message),
        ['far too many cars', 'more bikes', 'more trams', 'a comment'],
      );
    });

    it('the full proto: votes, replies, counts and cursors', async () => {
      const page = await unary(full, 'GetProjectThreads', { project_id: projectId, limit: 2 });
      assert.equal(page.value.threads.length, 2);
      assert.notEqual(page.value.next_cursor, '');
      const rest = await unary(full, 'GetProjectThreads', { project_id: projectId, limit: 2, cursor: page.value.next_cursor });
      assert.equal(rest.value.threads.length, 2);
      assert.equal(rest.value.next_cursor, '');
      const solutions = await unary(full, 'GetProjectThreads', { project_id: projectId, thread_types: [1] });
      assert.deepEqual(
        solutions.value.threads.map((t: any) => t.message),
        ['more bikes', 'more trams'],
      );

      const target = page.value.threads[0].thread_id;
      const reply = await unary(full, 'UpdateThreads', { project_id: projectId, threads: [{ thread_type: 0, message: 'agreed', parent_thread_id: target }] });
      assert.equal(reply.value.threads[0].parent_thread_id, target);
      const replies = await unary(full, 'GetSubThreads', { project_id: projectId, thread_id: target });
      assert.deepEqual(
        replies.value.threads.map((t: any) => t.message),
        ['agreed'],
      );
      const parent = await unary(full, 'GetThread', { thread_id: target });
      assert.equal(parent.value.reply_count, 1);
      // Replies are not top-level threads.
      assert.equal((await unary(full, 'GetProjectThreads', { project_id: projectId })).value.threads.length, 4);

      assert.deepEqual((await unary(full, 'Vote', { thread_id: target, direction: 'UP' })).value, { up_votes: 1, down_votes: 0 });
      assert.deepEqual((await unary(full, 'Vote', { thread_id: target, direction: 'UP', voter_id: 'ann' })).value, { up_votes: 2, down_votes: 0 });
      assert.deepEqual(
        (await unary(full, 'Vote', { thread_id: target, direction: 'UP', voter_id: 'ann' })).value,
        { up_votes: 2, down_votes: 0 },
        'the same vote again changes nothing',
      );
      assert.deepEqual(
        (await unary(full, 'Vote', { thread_id: target, direction: 'DOWN', voter_id: 'ann' })).value,
        { up_votes: 1, down_votes: 1 },
        'the other direction moves it',
      );
      const counted = await unary(full, 'CountThreads', { project_ids: [projectId, otherProject] });
      assert.deepEqual(counted.value.counts, [
        { project_id: projectId, problem: 1, solution: 2, comment: 2 },
        { project_id: otherProject, problem: 1, solution: 2, comment: 0 },
      ]);
      const one = await unary(full, 'GetThread', { thread_id: target });
      assert.match(new Date(Number(one.value.created_at.seconds) * 1000).toISOString(), ISO);
    });

    it('limit ≤ 0 is the default 20, above 100 is capped at 100', async () => {
      const many = (await proposeAndWait(app.api, 'Many threads')).id;
      for (let i = 0; i < 2; i++) {
        const threads = Array.from({ length: 60 }, (_, j) => ({ thread_type: 0, message: `comment ${i * 60 + j}` }));
        assert.equal((await unary(full, 'UpdateThreads', { project_id: many, threads })).err, null);
      }
      assert.equal((await unary(full, 'GetProjectThreads', { project_id: many, limit: -5 })).value.threads.length, 20);
      assert.equal((await unary(full, 'GetProjectThreads', { project_id: many })).value.threads.length, 20);
      assert.equal((await unary(full, 'GetProjectThreads', { project_id: many, limit: 1000 })).value.threads.length, 100);
    });

    it('bad input on every rpc: INVALID_ARGUMENT or NOT_FOUND naming the field, and nothing stored', async () => {
      const threadsBefore = await rows('threads');
      const votesBefore = await rows('votes');
      const thread = (await unary(full, 'GetProjectThreads', { project_id: otherProject })).value.threads[0];
      const bad: Array<[string, object, number, RegExp]> = [
        ['GetProjectThreads', { project_id: 0 }, status.INVALID_ARGUMENT, /project_id/],
        ['GetProjectThreads', { project_id: 999_999 }, status.NOT_FOUND, /Project 999999/],
        ['GetProjectThreads', { project_id: projectId, cursor: 'nope!' }, status.INVALID_ARGUMENT, /cursor/],
        ['GetProjectThreads', { project_id: projectId, thread_types: [7] }, status.INVALID_ARGUMENT, /thread_types\.0/],
        ['UpdateThreads', { project_id: projectId, threads: [] }, status.INVALID_ARGUMENT, /threads/],
        ['UpdateThreads', { project_id: projectId, threads: [{ message: '' }] }, status.INVALID_ARGUMENT, /threads\.0\.message/],
        ['UpdateThreads', { project_id: projectId, threads: [{ message: 'x'.repeat(10_001) }] }, status.INVALID_ARGUMENT, /threads\.0\.message/],
        [
          'UpdateThreads',
          { project_id: projectId, threads: [{ message: 'ok' }, { thread_type: 3, message: 'x' }] },
          status.INVALID_ARGUMENT,
          /threads\.1\.thread_type/,
        ],
        [
          'UpdateThreads',
          { project_id: projectId, threads: [{ message: 'ok' }, { message: 'reply', parent_thread_id: thread.thread_id }] },
          status.INVALID_ARGUMENT,
          /threads\.1\.parent_thread_id/,
        ],
        [
          'UpdateThreads',
          { project_id: projectId, threads: [{ message: 'ok' }, { thread_id: thread.thread_id, message: 'steal' }] },
          status.NOT_FOUND,
          /Thread/,
        ],
        [
          'UpdateThreads',
          { project_id: projectId, threads: [{ message: 'ok' }, { message: 'reply', parent_thread_id: 999_999 }] },
          status.NOT_FOUND,
          /Thread 999999/,
        ],
        ['UpdateThreads', { project_id: 999_999, threads: [{ message: 'lost' }] }, status.NOT_FOUND, /Project 999999/],
        ['Vote', { thread_id: thread.thread_id }, status.INVALID_ARGUMENT, /direction/],
        ['Vote', { thread_id: 0, direction: 'UP' }, status.INVALID_ARGUMENT, /thread_id/],
        ['Vote', { thread_id: 999_999, direction: 'UP', voter_id: 'ann' }, status.NOT_FOUND, /Thread 999999/],
        ['Vote', { thread_id: thread.thread_id, direction: 'UP', voter_id: 'v'.repeat(201) }, status.INVALID_ARGUMENT, /voter_id/],
        ['GetSubThreads', { thread_id: 0 }, status.INVALID_ARGUMENT, /thread_id/],
        ['GetSubThreads', { project_id: projectId, thread_id: thread.thread_id }, status.NOT_FOUND, /Thread/],
        ['GetThread', { thread_id: 0 }, status.INVALID_ARGUMENT, /thread_id/],
        ['GetThread', { thread_id: 999_999 }, status.NOT_FOUND, /Thread 999999/],
        ['CountThreads', { project_ids: [0] }, status.INVALID_ARGUMENT, /project_ids\.0/],
        // Text REST refuses, refused the same on every engine (Postgres cannot store NUL; SQLite would).
        [
          'UpdateThreads',
          { project_id: projectId, threads: [{ message: 'a\u0000b' }] },
          status.INVALID_ARGUMENT,
          /threads\.0\.message: must be valid UTF-8 without NUL/,
        ],
        ['UpdateThreads', { project_id: projectId, threads: [{ message: 'ok' }, { message: 'a\ud800b' }] }, status.INVALID_ARGUMENT, /threads\.1\.message/],
        ['Vote', { thread_id: thread.thread_id, direction: 'UP', voter_id: 'ann\u0000' }, status.INVALID_ARGUMENT, /voter_id/],
        ['GetProjectThreads', { project_id: projectId, cursor: '\udc00' }, status.INVALID_ARGUMENT, /cursor/],
      ];
      for (const [rpc, request, code, field] of bad) {
        const { err } = await unary(full, rpc, request);
        assert.equal(err?.code, code, `${rpc} ${JSON.stringify(request).slice(0, 100)}: ${err?.details}`);
        assert.match(err!.details, field, `${rpc}: ${err!.details}`);
      }
      assert.equal(await rows('threads'), threadsBefore, 'no thread stored or changed by a refused call');
      assert.equal(await rows('votes'), votesBefore);
      assert.deepEqual(grpcErrorLines(), [], 'no error-level line for bad input');
      assert.equal((await unary(full, 'GetThread', { thread_id: thread.thread_id })).value.message, thread.message);
    });

    it('malformed protobuf (raw bytes from a grpc-js client) is INVALID_ARGUMENT naming the field; nothing stored', async () => {
      const c = certificates();
      const raw = new Client(`127.0.0.1:${app.grpcPort}`, credentials.createSsl(readFileSync(c.ca), readFileSync(c.clientKey), readFileSync(c.clientCert)));
      const send = (bytes: number[]) => sendRaw(raw, '/ThreadsService/UpdateThreads', bytes, 10_000);
      const threadsBefore = await rows('threads');
      const project = [0x08, projectId];
      const cases: Array<[string, number[], RegExp]> = [
        ['truncated varint', [0x08, 0xff], /project_id: truncated or overlong varint/],
        ['garbage', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], /truncated or overlong field tag/],
        ['a length past the end', [...project, 0x12, 0x20, 0x22, 0x01, 0x61], /threads\.0: runs past the end/],
        ['a wrong wire type', [...project, 0x12, 0x03, 0x22, 0x01, 0x61, 0x12, 0x02, 0x08 | 0x02, 0x00], /threads\.1\.thread_id: wire type 2/],
        ['NUL in a message', [...project, 0x12, 0x04, 0x22, 0x02, 0x61, 0x00], /threads\.0\.message: must be valid UTF-8 without NUL/],
      ];
      for (const [name, bytes, message] of cases) {
        const err = await send(bytes);
        assert.equal(err?.code, status.INVALID_ARGUMENT, `${name}: ${status[err?.code ?? 0]} ${err?.details}`);
        assert.match(err!.details, message, name);
      }
      // The same bytes, well formed, store a thread: the check is of the encoding, not of the request.
      assert.equal(await send([...project, 0x12, 0x03, 0x22, 0x01, 0x61]), null);
      assert.equal(await rows('threads'), threadsBefore + 1);
      assert.deepEqual(grpcErrorLines(), []);
      raw.close();
    });

    it('/metrics shows calls, status codes and latency per rpc', async () => {
      const text = await (await fetch(`${app.url}/metrics`)).text();
      assert.match(text, /cantons_grpc_server_calls_total\{service="ThreadsService",method="GetProjectThreads",code="OK"\} \d+/);
      assert.match(text, /cantons_grpc_server_calls_total\{service="ThreadsService",method="UpdateThreads",code="INVALID_ARGUMENT"\} \d+/);
      assert.match(text, /cantons_grpc_server_duration_seconds_count\{service="ThreadsService",method="Vote"\} \d+/);
    });

    it('1,000 concurrent votes give exactly the counts sent', async () => {
      const [anonymous, byVoter] = (await unary(full, 'GetProjectThreads', { project_id: otherProject })).value.threads;
      const calls = [
        ...Array.from({ length: 600 }, () => unary(full, 'Vote', { thread_id: anonymous.thread_id, direction: 'UP' })),
        ...Array.from({ length: 400 }, () => unary(full, 'Vote', { thread_id: anonymous.thread_id, direction: 'DOWN' })),
        // Each voter twice at once (up then down): one vote each, whichever lands last.
        ...Array.from({ length: 500 }, (_, i) => unary(full, 'Vote', { thread_id: byVoter.thread_id, direction: 'UP', voter_id: `voter-${i}` })),
        ...Array.from({ length: 500 }, (_, i) =>
          unary(full, 'Vote', { thread_id: byVoter.thread_id, direction: i < 200 ? 'DOWN' : 'UP', voter_id: `voter-${i}` }),
        ),
      ];
      const answers = await Promise.all(calls);
      assert.deepEqual(
        answers.filter((a) => a.err).map((a) => a.err!.details),
        [],
      );
      assert.deepEqual((await unary(full, 'GetThread', { thread_id: anonymous.thread_id })).value.up_votes, 600);
      assert.deepEqual((await unary(full, 'GetThread', { thread_id: anonymous.thread_id })).value.down_votes, 400);
      const voted = (await unary(full, 'GetThread', { thread_id: byVoter.thread_id })).value;
      assert.equal(voted.up_votes + voted.down_votes, 500, `one vote per voter: ${voted.up_votes} up, ${voted.down_votes} down`);
      const db = app.kernel.databases.get('crowdfund')!.db;
      const stored = await db
        .selectFrom('votes')
        .select(['direction', (eb) => eb.fn.countAll().as('n')])
        .where('thread_id', '=', byVoter.thread_id)
        .groupBy('direction')
        .execute();
      const byDirection = Object.fromEntries(stored.map((r) => [r.direction, Number(r.n)]));
      assert.deepEqual([byDirection.up ?? 0, byDirection.down ?? 0], [voted.up_votes, voted.down_votes], 'the counts in the thread row match the votes table');
      assert.ok(voted.down_votes <= 200);
    });

    // Last: it takes the database away from the running app.
    it('a storage failure is UNAVAILABLE (SERVICE_UNAVAILABLE), with no error-level line', async () => {
      const mdb = app.kernel.databases.get('crowdfund')!;
      if (dialect.name === 'SQLite') mdb.sqlite!.close();
      else {
        // Gone from under the pool (idle now): the next connection finds no database (3D000).
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`DROP DATABASE "${new URL(app.env.DATABASE_URL!).pathname.slice(1)}" WITH (FORCE)`);
        await admin.end();
      }
      const { err } = await unary(full, 'GetThread', { thread_id: 1 });
      assert.deepEqual([err && status[err.code], err?.metadata.get('cantons-error-code')[0]], ['UNAVAILABLE', 'SERVICE_UNAVAILABLE'], err?.details);
      assert.deepEqual(grpcErrorLines(), []);
      assert.ok(lines.some((l) => l.msg === 'backing service unavailable' && l.rpc === 'ThreadsService/GetThread'));
    });
  });
}
