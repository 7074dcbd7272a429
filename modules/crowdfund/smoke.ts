// `npm run smoke -- crowdfund [base-url]`: propose a project, wait for its threads, vote, reply, tag, list.
import { randomUUID } from 'node:crypto';
import { check, fetchAnswer } from '../../kernel/smoke.ts';

const call = (url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) =>
  fetchAnswer(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const expect = (ok: boolean, what: string, got: unknown) => check('crowdfund', ok, what, got);

export async function smokeCrowdfund(baseUrl: string, print: (line: string) => void): Promise<void> {
  const name = `smoke ${randomUUID().slice(0, 8)}`;
  const proposal = { project_name: name, tagline: 'a smoke test', tags: ['smoke'], problems: ['it is untested'], solutions: ['test it'] };
  const key = randomUUID();
  const proposed = await call(`${baseUrl}/projects/propose`, 'POST', proposal, { 'idempotency-key': key });
  expect(proposed.status === 200 && Number.isInteger(proposed.body?.project_id), 'POST /projects/propose should answer 200 {project_id}', proposed);
  const id = proposed.body.project_id as number;
  print(`POST /projects/propose → 200 project_id=${id}`);

  const again = await call(`${baseUrl}/projects/propose`, 'POST', proposal, { 'idempotency-key': key });
  expect(again.status === 200 && again.body.project_id === id, 'the same Idempotency-Key should answer the first answer', again);
  print('POST /projects/propose again with the same Idempotency-Key → the same project_id');

  // The threads come from the project_proposed event: give the relay a moment.
  let detail = await call(`${baseUrl}/projects/${id}`);
  for (let i = 0; i < 50 && (detail.body?.threads?.length ?? 0) < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    detail = await call(`${baseUrl}/projects/${id}`);
  }
  expect(detail.status === 200 && detail.body.threads?.length === 2, `GET /projects/${id} should show the problem and the solution`, detail);
  print(`GET /projects/${id} → 200 with ${detail.body.threads.length} threads`);

  const problem = detail.body.threads.find((t: { thread_type: string }) => t.thread_type === 'problem');
  const vote = await call(`${baseUrl}/threads/${problem.thread_id}/votes`, 'POST', { direction: 'up' });
  expect(vote.status === 200 && vote.body.up_votes === 1, 'a vote should count', vote);
  print(`POST /threads/${problem.thread_id}/votes → 200 up_votes=${vote.body.up_votes}`);

  const reply = await call(`${baseUrl}/projects/${id}/threads`, 'POST', { thread_type: 'comment', message: 'agreed', parent_thread_id: problem.thread_id });
  expect(reply.status === 201 && reply.body.parent_thread_id === problem.thread_id, 'a reply should be created', reply);
  const replies = await call(`${baseUrl}/threads/${problem.thread_id}/replies`);
  expect(replies.status === 200 && replies.body.items.length === 1, 'the reply should be listed', replies);
  print(`POST /projects/${id}/threads (reply) → 201; GET /threads/${problem.thread_id}/replies → 1`);

  const tagged = await call(`${baseUrl}/projects/tags`, 'PUT', { project_id: id, add: ['checked'], remove: ['smoke'] });
  expect(tagged.status === 200 && JSON.stringify(tagged.body.tags) === '["checked"]', 'tags should change', tagged);
  const list = await call(`${baseUrl}/projects?tag=checked`);
  expect(list.status === 200 && list.body.items.some((p: { project_id: number }) => p.project_id === id), 'the list should find the project by its tag', list);
  print(`PUT /projects/tags → 200 ${JSON.stringify(tagged.body.tags)}; GET /projects?tag=checked → found`);
}
