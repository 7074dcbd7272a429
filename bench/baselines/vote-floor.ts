// The vote floor (issue 24 part 3): bare grpc-js over TLS serving crowdfund's threads.proto, Vote only: each vote one
// UPDATE … RETURNING, the votes of one event-loop turn in one transaction (synchronous=FULL, WAL), answered with the
// counts after the commit. Cantons' Vote adds the kernel's gRPC transport (validation, errors, tracing, metrics) and
// its own vote batch inside a group-committed write transaction.
//
// GRPC_PORT: the gRPC port (GRPC_TLS_CERT_FILE, GRPC_TLS_KEY_FILE); PORT: /readyz over HTTP, as the app has both.
// FLOOR_THREADS: threads 1…N to vote on (default 1).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { loadPackageDefinition, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { CROWDFUND_TABLES, groupCommit, openDurable } from './parts.ts';

const db = openDurable('floor.sqlite');
// Crowdfund's tables as its migrations leave them, one project with FLOOR_THREADS threads.
db.pragma('foreign_keys = ON');
db.exec(CROWDFUND_TABLES);
db.prepare("INSERT OR IGNORE INTO projects (id, project_name, tagline, created_at) VALUES (1, 'votes', 't', '2026-01-01')").run();
const seed = db.prepare("INSERT OR IGNORE INTO threads (id, project_id, thread_type, message, created_at) VALUES (?, 1, 'problem', 'p', '2026-01-01')");
for (let id = 1; id <= Number(process.env.FLOOR_THREADS ?? 1); id++) seed.run(id);

type Counts = { up_votes: number; down_votes: number };
const up = db.prepare('UPDATE threads SET up_votes = up_votes + 1 WHERE id = ? RETURNING up_votes, down_votes');
const down = db.prepare('UPDATE threads SET down_votes = down_votes + 1 WHERE id = ? RETURNING up_votes, down_votes');
const commit = groupCommit<{ id: number; up: boolean }, Counts | undefined>(
  db.transaction((votes: { id: number; up: boolean }[]) => votes.map((v) => (v.up ? up : down).get(v.id) as Counts | undefined)),
);

type VoteRequest = { thread_id: number; direction: string };
function vote(call: ServerUnaryCall<VoteRequest, Counts>, answer: sendUnaryData<Counts>): void {
  const { thread_id, direction } = call.request;
  if (!(thread_id > 0) || (direction !== 'UP' && direction !== 'DOWN')) {
    answer({ code: status.INVALID_ARGUMENT, details: 'a vote needs a thread_id and a direction, UP or DOWN' });
    return;
  }
  commit({ id: thread_id, up: direction === 'UP' }).then(
    (counts) => (counts ? answer(null, counts) : answer({ code: status.NOT_FOUND, details: `thread ${thread_id} not found` })),
    () => answer({ code: status.UNAVAILABLE, details: 'the database failed' }),
  );
}

const proto = loadSync(join(import.meta.dirname, '../../modules/crowdfund/threads.proto'), { keepCase: true, longs: Number, enums: String, defaults: true });
const { ThreadsService } = loadPackageDefinition(proto) as any;
const server = new Server();
server.addService(ThreadsService.service, { Vote: vote });
const tls = ServerCredentials.createSsl(null, [
  { private_key: readFileSync(process.env.GRPC_TLS_KEY_FILE ?? ''), cert_chain: readFileSync(process.env.GRPC_TLS_CERT_FILE ?? '') },
]);
server.bindAsync(`127.0.0.1:${process.env.GRPC_PORT}`, tls, (err) => {
  if (err) throw err;
  const http = createServer((req, res) => res.writeHead(req.url === '/readyz' ? 200 : 404).end());
  http.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write(`vote floor listening on gRPC ${process.env.GRPC_PORT}\n`));
  process.once('SIGTERM', () => {
    http.close();
    server.tryShutdown(() => {
      db.close();
      process.exit(0);
    });
  });
});
