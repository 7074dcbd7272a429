// The threads for a browser: REST routes that go through the threads facade, with every refusal storing nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENGINES, gate } from '../../../kernel/testing/index.ts';
import { proposeAndWait, startCrowdfund, type Crowdfund } from '../testing/index.ts';

for (const dialect of ENGINES) {
  describe(`crowdfund threads over HTTP (${dialect.name})`, await gate(...dialect.needs), () => {
    let app: Crowdfund;
    let project: { id: number; threads: any[] };
    let other: { id: number; threads: any[] };
    const count = async (table: string) =>
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
      app = await startCrowdfund(dialect);
      project = await proposeAndWait(app.api, 'Threads');
      other = await proposeAndWait(app.api, 'Other');
    });
    after(() => app?.close());

    it("lists a project's threads by type and page", async () => {
      const solutions = await app.api('GET', `/projects/${project.id}/threads?type=solution`);
      assert.equal(solutions.status, 200);
      assert.deepEqual(
        solutions.body.items.map((t: any) => t.message),
        ['more bikes', 'more trams'],
      );
      const first = await app.api('GET', `/projects/${project.id}/threads?limit=2`);
      assert.equal(first.body.items.length, 2);
      const rest = await app.api('GET', `/projects/${project.id}/threads?limit=2&cursor=${first.body.next_cursor}`);
      assert.deepEqual([rest.body.items.length, rest.body.next_cursor], [1, null]);
      assert.deepEqual(await app.api('GET', '/projects/999999/threads'), {
        status: 404,
        body: { error: 'PROJECT_NOT_FOUND', message: 'Project 999999 not found' },
      });
    });

    it('starts a thread (201), replies to one, edits it, lists replies', async () => {
      const created = await app.api('POST', `/projects/${project.id}/threads`, { thread_type: 'comment', message: 'first!' });
      assert.equal(created.status, 201);
      assert.deepEqual(
        { ...created.body, thread_id: 0, created_at: '' },
        {
          thread_id: 0,
          project_id: project.id,
          thread_type: 'comment',
          message: 'first!',
          created_at: '',
          up_votes: 0,
          down_votes: 0,
          parent_thread_id: null,
          reply_count: 0,
        },
      );
      const parent = project.threads[0].thread_id;
      const reply = await app.api('POST', `/projects/${project.id}/threads`, { thread_type: 'comment', message: 'a reply', parent_thread_id: parent });
      assert.deepEqual([reply.status, reply.body.parent_thread_id], [201, parent]);
      const edited = await app.api('PATCH', `/threads/${reply.body.thread_id}`, { message: 'an edited reply' });
      assert.deepEqual([edited.status, edited.body.message, edited.body.thread_id], [200, 'an edited reply', reply.body.thread_id]);
      const replies = await app.api('GET', `/threads/${parent}/replies`);
      assert.deepEqual(
        replies.body.items.map((t: any) => t.message),
        ['an edited reply'],
      );
      assert.equal((await app.api('GET', `/projects/${project.id}`)).body.threads[0].reply_count, 1);
    });

    it('votes: every anonymous vote counts; a voter has one vote, which the other direction moves', async () => {
      const id = project.threads[1].thread_id;
      assert.deepEqual(await app.api('POST', `/threads/${id}/votes`, { direction: 'up' }), { status: 200, body: { up_votes: 1, down_votes: 0 } });
      assert.deepEqual((await app.api('POST', `/threads/${id}/votes`, { direction: 'up' })).body, { up_votes: 2, down_votes: 0 });
      assert.deepEqual((await app.api('POST', `/threads/${id}/votes`, { direction: 'down', voter_id: 'bo' })).body, { up_votes: 2, down_votes: 1 });
      assert.deepEqual((await app.api('POST', `/threads/${id}/votes`, { direction: 'down', voter_id: 'bo' })).body, { up_votes: 2, down_votes: 1 });
      assert.deepEqual((await app.api('POST', `/threads/${id}/votes`, { direction: 'up', voter_id: 'bo' })).body, { up_votes: 3, down_votes: 0 });
      const shown = (await app.api('GET', `/projects/${project.id}`)).body.threads[1];
      assert.deepEqual([shown.up_votes, shown.down_votes], [3, 0]);
    });

    it('bad input on every threads route: 400 (or 404 for what does not exist), nothing stored', async () => {
      const before = [await count('threads'), await count('votes')];
      const foreign = other.threads[0].thread_id;
      const mine = project.threads[0].thread_id;
      const bad: Array<[string, string, unknown, number, string]> = [
        ['GET', `/projects/${project.id}/threads?type=idea`, undefined, 400, 'VALIDATION_ERROR'],
        ['GET', `/projects/${project.id}/threads?limit=101`, undefined, 400, 'VALIDATION_ERROR'],
        ['GET', `/projects/${project.id}/threads?cursor=bogus`, undefined, 400, 'VALIDATION_ERROR'],
        ['GET', '/projects/x/threads', undefined, 400, 'VALIDATION_ERROR'],
        ['POST', `/projects/${project.id}/threads`, { thread_type: 'idea', message: 'x' }, 400, 'VALIDATION_ERROR'],
        ['POST', `/projects/${project.id}/threads`, { thread_type: 'comment', message: '' }, 400, 'VALIDATION_ERROR'],
        ['POST', `/projects/${project.id}/threads`, { thread_type: 'comment', message: 'x'.repeat(10_001) }, 400, 'VALIDATION_ERROR'],
        ['POST', `/projects/${project.id}/threads`, { thread_type: 'comment' }, 400, 'VALIDATION_ERROR'],
        ['POST', `/projects/${project.id}/threads`, { thread_type: 'comment', message: 'x', parent_thread_id: foreign }, 400, 'VALIDATION_ERROR'],
        ['POST', `/projects/${project.id}/threads`, { thread_type: 'comment', message: 'x', parent_thread_id: 999_999 }, 404, 'THREAD_NOT_FOUND'],
        ['POST', '/projects/999999/threads', { thread_type: 'comment', message: 'x' }, 404, 'PROJECT_NOT_FOUND'],
        ['PATCH', `/threads/${mine}`, { message: '' }, 400, 'VALIDATION_ERROR'],
        ['PATCH', `/threads/${mine}`, { message: 'x', thread_type: 'problem' }, 400, 'VALIDATION_ERROR'],
        ['PATCH', '/threads/999999', { message: 'x' }, 404, 'THREAD_NOT_FOUND'],
        ['GET', '/threads/999999/replies', undefined, 404, 'THREAD_NOT_FOUND'],
        ['GET', `/threads/${mine}/replies?limit=-1`, undefined, 400, 'VALIDATION_ERROR'],
        ['POST', `/threads/${mine}/votes`, { direction: 'sideways' }, 400, 'VALIDATION_ERROR'],
        ['POST', `/threads/${mine}/votes`, {}, 400, 'VALIDATION_ERROR'],
        ['POST', `/threads/${mine}/votes`, { direction: 'up', voter_id: '' }, 400, 'VALIDATION_ERROR'],
        ['POST', '/threads/999999/votes', { direction: 'up' }, 404, 'THREAD_NOT_FOUND'],
        ['POST', '/threads/0/votes', { direction: 'up' }, 400, 'VALIDATION_ERROR'],
      ];
      for (const [method, path, body, status, code] of bad) {
        const res = await app.api(method, path, body);
        assert.deepEqual([res.status, res.body?.error], [status, code], `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}: ${JSON.stringify(res.body)}`);
      }
      assert.deepEqual([await count('threads'), await count('votes')], before);
      assert.equal((await app.api('GET', `/projects/${other.id}`)).body.threads[0].up_votes, 0);
    });
  });
}
