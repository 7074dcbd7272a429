// crowdfund's promises through its public API: a proposal becomes its threads exactly once, votes count exactly
// under concurrency, replies and tags work, and an Idempotency-Key answers the same and creates one project.
import { randomUUID } from 'node:crypto';
import { type Answer, call, eventually, expect, parallel, sleep, unique } from './http.ts';
import type { Check, Deployment, ModuleSuite } from './types.ts';

interface Proposal {
  project_name: string;
  tagline: string;
  tags: string[];
  problems: string[];
  solutions: string[];
}

function proposal(): Proposal {
  const name = unique('conformance');
  return {
    project_name: name,
    tagline: 'a conformance check',
    tags: [`tag-${name}`],
    problems: [`${name}: the first problem`, `${name}: the second problem`],
    solutions: [`${name}: the first solution`, `${name}: the second solution`],
  };
}

const propose = (d: Deployment, p: Proposal, key?: string): Promise<Answer> =>
  call(d.gateway, 'POST', '/projects/propose', p, key ? { 'idempotency-key': key } : {});

const detail = (d: Deployment, id: number): Promise<Answer> => call(d.gateway, 'GET', `/projects/${id}`);

/** Proposes a new project and waits for its problem and solution threads; resolves its id and its detail. */
async function proposedWithThreads(d: Deployment): Promise<{ id: number; p: Proposal; project: any }> {
  const p = proposal();
  const proposed = await propose(d, p);
  expect(proposed.status === 200 && Number.isInteger(proposed.body?.project_id), 'POST /projects/propose → 200 {project_id}', proposed);
  const id = proposed.body.project_id as number;
  const expected = p.problems.length + p.solutions.length;
  const got = await eventually(
    `GET /projects/${id} to show its ${expected} threads`,
    () => detail(d, id),
    (a) => a.status === 200 && (a.body?.threads?.length ?? 0) >= expected,
  );
  return { id, p, project: got.body };
}

const proposeThreadsOnce: Check = {
  name: 'propose → each problem and solution becomes a thread exactly once',
  async run(d) {
    const { id, p } = await proposedWithThreads(d);
    // A second delivery of project_proposed would add copies: give one time to arrive.
    await sleep(2000);
    const later = await detail(d, id);
    expect(later.status === 200 && Array.isArray(later.body?.threads), `GET /projects/${id} → 200 with threads`, later);
    const shown = later.body.threads.map((t: any) => `${t.thread_type}: ${t.message}`).sort();
    const expected = [...p.problems.map((m) => `problem: ${m}`), ...p.solutions.map((m) => `solution: ${m}`)].sort();
    const copies = shown.length - new Set(shown).size;
    expect(
      JSON.stringify(shown) === JSON.stringify(expected),
      `each of the ${expected.length} proposed threads once`,
      `${shown.length} threads, ${copies} of them copies`,
    );
  },
};

const votesExact: Check = {
  name: '40 parallel votes are 40 votes; 10 parallel votes of one voter are one',
  async run(d) {
    const { id, project } = await proposedWithThreads(d);
    const [problem, solution] = [project.threads.find((t: any) => t.thread_type === 'problem'), project.threads.find((t: any) => t.thread_type === 'solution')];

    // Without voter_id every call counts.
    const anonymous = await parallel(40, () => call(d.gateway, 'POST', `/threads/${problem.thread_id}/votes`, { direction: 'up' }));
    const failed = anonymous.find((a) => a.status !== 200);
    expect(failed === undefined, 'all 40 votes → 200', failed);
    // With a voter_id, one vote per voter per thread.
    const voter = unique('voter');
    const own = await parallel(10, () => call(d.gateway, 'POST', `/threads/${solution.thread_id}/votes`, { direction: 'down', voter_id: voter }));
    expect(
      own.every((a) => a.status === 200),
      'all 10 votes of one voter → 200',
      own.find((a) => a.status !== 200),
    );

    const after = await detail(d, id);
    const votes = (threadId: number) => {
      const t = after.body?.threads?.find((x: any) => x.thread_id === threadId);
      return `${t?.up_votes} up, ${t?.down_votes} down`;
    };
    expect(votes(problem.thread_id) === '40 up, 0 down', 'the problem at 40 up, 0 down', votes(problem.thread_id));
    expect(votes(solution.thread_id) === '0 up, 1 down', 'the solution at 0 up, 1 down', votes(solution.thread_id));
  },
};

const replies: Check = {
  name: 'replies: 5 parallel replies to a thread are listed once each and counted on it, not as top-level threads',
  async run(d) {
    const { id, project } = await proposedWithThreads(d);
    const parent = project.threads[0];
    const created = await parallel(5, (i) =>
      call(d.gateway, 'POST', `/projects/${id}/threads`, { thread_type: 'comment', message: `reply ${i}`, parent_thread_id: parent.thread_id }),
    );
    const refused = created.find((a) => a.status !== 201 || a.body?.parent_thread_id !== parent.thread_id);
    expect(refused === undefined, `each reply → 201 with parent_thread_id ${parent.thread_id}`, refused);

    const listed = await call(d.gateway, 'GET', `/threads/${parent.thread_id}/replies`);
    const messages = (listed.body?.items ?? []).map((t: any) => t.message).sort();
    expect(
      listed.status === 200 && JSON.stringify(messages) === JSON.stringify(['reply 0', 'reply 1', 'reply 2', 'reply 3', 'reply 4']),
      'the 5 replies, once each',
      listed,
    );
    const after = await detail(d, id);
    const shownParent = after.body?.threads?.find((t: any) => t.thread_id === parent.thread_id);
    expect(shownParent?.reply_count === 5, 'reply_count 5 on the parent', shownParent);
    expect(after.body.threads.length === project.threads.length, `still ${project.threads.length} top-level threads`, after.body.threads.length);
  },
};

const tags: Check = {
  name: 'tags: added and removed in one call, and the list finds the project by its new tag only',
  async run(d) {
    const { id, p } = await proposedWithThreads(d);
    const [oldTag, newTag] = [p.tags[0], `new-${p.tags[0]}`];
    const changed = await call(d.gateway, 'PUT', '/projects/tags', { project_id: id, add: [newTag, 'conformance'], remove: [oldTag] });
    expect(
      changed.status === 200 && JSON.stringify(changed.body?.tags) === JSON.stringify(['conformance', newTag]),
      `tags → ["conformance","${newTag}"]`,
      changed,
    );

    const byNew = await call(d.gateway, 'GET', `/projects?tag=${encodeURIComponent(newTag)}`);
    expect(
      byNew.status === 200 && JSON.stringify(byNew.body?.items?.map((x: any) => x.project_id)) === JSON.stringify([id]),
      `GET /projects?tag=${newTag} → only project ${id}`,
      byNew,
    );
    const byOld = await call(d.gateway, 'GET', `/projects?tag=${encodeURIComponent(oldTag)}`);
    expect(byOld.status === 200 && byOld.body?.items?.length === 0, `GET /projects?tag=${oldTag} → none`, byOld);
  },
};

const idempotencyKey: Check = {
  name: 'Idempotency-Key: sent again (one after the other, and 10 at once) answers the same and creates one project',
  async run(d) {
    const p = proposal();
    const key = randomUUID();
    const first = await propose(d, p, key);
    expect(first.status === 200 && Number.isInteger(first.body?.project_id), 'POST /projects/propose → 200 {project_id}', first);
    const again = await propose(d, p, key);
    expect(again.status === 200 && again.body?.project_id === first.body.project_id, `the same key again → 200 project_id ${first.body.project_id}`, again);
    const other = await propose(d, { ...p, tagline: 'another proposal' }, key);
    expect(other.status === 422 && other.body?.error === 'IDEMPOTENCY_KEY_REUSED', 'the key with another proposal → 422 IDEMPOTENCY_KEY_REUSED', other);

    // Racing copies of a new proposal: one wins, the others wait for its answer.
    const raced = proposal();
    const racedKey = randomUUID();
    const answers = await parallel(10, () => propose(d, raced, racedKey));
    const ids = new Set(answers.map((a) => (a.status === 200 ? a.body?.project_id : `${a.status} ${a.text}`)));
    expect(ids.size === 1 && Number.isInteger([...ids][0]), '10 racing copies → 200 with one project_id', [...ids]);

    for (const [tag, what] of [
      [p.tags[0], 'the sequential retries'],
      [raced.tags[0], 'the racing copies'],
    ]) {
      const listed = await call(d.gateway, 'GET', `/projects?tag=${encodeURIComponent(tag)}`);
      expect(listed.status === 200 && listed.body?.items?.length === 1, `one project from ${what}`, listed);
    }
  },
};

export const crowdfund: ModuleSuite = {
  module: 'crowdfund',
  checks: [proposeThreadsOnce, votesExact, replies, tags, idempotencyKey],
  async load(d) {
    const { id } = await proposedWithThreads(d);
    return () => ({ method: 'GET', path: `/projects/${id}` });
  },
};
