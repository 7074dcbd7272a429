// The projects REST API on both dialects: propose (atomic, idempotent), list, detail and tags, and every refusal storing nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENGINES, gate, waitFor } from '../../../kernel/testing/index.ts';
import { proposal, proposeAndWait, startCrowdfund, type Crowdfund } from '../testing/index.ts';

for (const dialect of ENGINES) {
  describe(`crowdfund projects over HTTP (${dialect.name})`, await gate(...dialect.needs), () => {
    let app: Crowdfund;
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
    const stored = async () => [await count('projects'), await count('tags'), await count('threads'), (await count('outbox')) + (await count('inbox'))];

    before(async () => {
      app = await startCrowdfund(dialect);
    });
    after(() => app?.close());

    it('propose answers 200 {project_id}; the problem and solution threads appear within a second, once', async () => {
      const started = Date.now();
      const res = await app.api('POST', '/projects/propose', proposal('Solar roofs'));
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body), ['project_id']);
      const threads = await waitFor(
        'threads',
        async () => {
          const d = await app.api('GET', `/projects/${res.body.project_id}`);
          return d.body.threads?.length ? d.body.threads : undefined;
        },
        1000,
      );
      assert.ok(Date.now() - started < 1000);
      assert.deepEqual(
        threads.map((t: any) => [t.thread_type, t.message, t.up_votes, t.reply_count, t.parent_thread_id]),
        [
          ['problem', 'too many cars', 0, 0, null],
          ['solution', 'more bikes', 0, 0, null],
          ['solution', 'more trams', 0, 0, null],
        ],
      );
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await app.api('GET', `/projects/${res.body.project_id}`)).body.threads.length, 3, 'and no more later');
    });

    it("missing or empty fields: 400 VALIDATION_ERROR naming each, with the original front end's messages; nothing stored", async () => {
      const before = await stored();
      const res = await app.api('POST', '/projects/propose', { project_name: '  ', problems: [] });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'VALIDATION_ERROR');
      assert.deepEqual(
        res.body.details.map((d: any) => [d.field, d.message]),
        [
          ['project_name', 'missing project name'],
          ['tagline', 'missing tagline'],
          ['problems', 'missing problems'],
          ['solutions', 'missing solutions'],
        ],
      );
      const bad: object[] = [
        proposal('x'.repeat(81)),
        proposal('ok', { tagline: 'x'.repeat(256) }),
        proposal('ok', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }),
        proposal('ok', { tags: ['x'.repeat(51)] }),
        proposal('ok', { tags: [''] }),
        proposal('ok', { problems: [''] }),
        proposal('ok', { solutions: ['x'.repeat(10_001)] }),
        proposal('ok', { surprise: true }),
      ];
      for (const body of bad) assert.equal((await app.api('POST', '/projects/propose', body)).status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal((await app.api('POST', '/projects/propose', '{"project_name":')).status, 400);
      assert.equal((await app.api('POST', '/projects/propose', proposal('ok'), { 'idempotency-key': 'has space' })).status, 400);
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual(await stored(), before);
    });

    it('a name already taken is 409 PROJECT_NAME_TAKEN and adds nothing', async () => {
      await proposeAndWait(app.api, 'Taken');
      const before = await stored();
      const res = await app.api('POST', '/projects/propose', proposal('Taken', { tags: ['other'] }));
      assert.deepEqual([res.status, res.body], [409, { error: 'PROJECT_NAME_TAKEN', message: 'A project named "Taken" already exists' }]);
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual(await stored(), before);
    });

    it('Idempotency-Key: retries, even concurrent ones, answer the first answer and create nothing; another proposal under it is 422', async () => {
      const key = { 'idempotency-key': `key-${dialect.name}` };
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => app.api('POST', '/projects/propose', proposal('Idempotent', { tags: ['a', 'a', 'b'] }), key)),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 200, 200],
      );
      assert.equal(new Set(answers.map((a) => a.body.project_id)).size, 1);
      const id = answers[0].body.project_id;
      const later = await app.api('POST', '/projects/propose', proposal('Idempotent', { tags: ['a', 'a', 'b'] }), key);
      assert.deepEqual(later.body, { project_id: id });
      const reused = await app.api('POST', '/projects/propose', proposal('Something else'), key);
      assert.deepEqual([reused.status, reused.body.error], [422, 'IDEMPOTENCY_KEY_REUSED']);
      const detail = await waitFor('threads', async () => ((await app.api('GET', `/projects/${id}`)).body.threads?.length === 3 ? true : undefined), 5000);
      assert.ok(detail);
      const db = app.kernel.databases.get('crowdfund')!.db;
      assert.equal((await db.selectFrom('projects').select('id').where('project_name', '=', 'Idempotent').execute()).length, 1);
      assert.deepEqual((await app.api('GET', `/projects/${id}`)).body.tags, ['a', 'b'], 'duplicate tags merged');
    });

    it('lists newest first with thread counts, pages by cursor, filters by tag', async () => {
      const a = await proposeAndWait(app.api, 'List A', { tags: ['listed'] });
      const b = await proposeAndWait(app.api, 'List B', { tags: ['listed', 'b'], problems: ['p1', 'p2'] });
      const page = await app.api('GET', '/projects?tag=listed&limit=1');
      assert.equal(page.status, 200);
      assert.deepEqual(
        page.body.items.map((p: any) => [p.project_id, p.project_name, p.tags, p.thread_counts]),
        [[b.id, 'List B', ['b', 'listed'], { problem: 2, solution: 2, comment: 0 }]],
      );
      const next = await app.api('GET', `/projects?tag=listed&limit=1&cursor=${page.body.next_cursor}`);
      assert.deepEqual(
        next.body.items.map((p: any) => p.project_id),
        [a.id],
      );
      assert.equal(next.body.next_cursor, null);
      const all = await app.api('GET', '/projects?limit=100');
      const ids = all.body.items.map((p: any) => p.project_id);
      assert.deepEqual(
        ids,
        [...ids].sort((x: number, y: number) => y - x),
      );
      assert.match(all.body.items[0].created_at, /Z$/);
    });

    it('detail: tags and threads with votes and reply counts, threads_limit; unknown ids are 404 PROJECT_NOT_FOUND', async () => {
      const p = await proposeAndWait(app.api, 'Detail', { solutions: ['s1', 's2', 's3'] });
      const limited = await app.api('GET', `/projects/${p.id}?threads_limit=2`);
      assert.equal(limited.body.threads.length, 2);
      assert.equal(typeof limited.body.threads_next_cursor, 'string');
      for (const path of ['/projects/999999', '/projects/99999999999']) {
        assert.deepEqual(await app.api('GET', path), { status: 404, body: { error: 'PROJECT_NOT_FOUND', message: `Project ${path.slice(10)} not found` } });
      }
    });

    it('PUT /projects/tags adds and removes in one transaction; no-ops are no-ops; 50 concurrent adds all land', async () => {
      const p = await proposeAndWait(app.api, 'Tagged', { tags: ['old', 'keep'] });
      const changed = await app.api('PUT', '/projects/tags', { project_id: p.id, add: ['new', 'keep'], remove: ['old', 'absent'] });
      assert.deepEqual(changed, { status: 200, body: { project_id: p.id, tags: ['keep', 'new'] } });
      const adds = await Promise.all(Array.from({ length: 50 }, (_, i) => app.api('PUT', '/projects/tags', { project_id: p.id, add: [`c${i}`] })));
      assert.deepEqual([...new Set(adds.map((r) => r.status))], [200]);
      assert.equal((await app.api('GET', `/projects/${p.id}`)).body.tags.length, 52);
      assert.equal((await app.api('PUT', '/projects/tags', { project_id: 999_999, add: ['x'] })).body.error, 'PROJECT_NOT_FOUND');
      const over = await app.api('PUT', '/projects/tags', { project_id: p.id, add: Array.from({ length: 49 }, (_, i) => `more${i}`) });
      assert.deepEqual([over.status, over.body.error], [409, 'TOO_MANY_TAGS']);
      assert.equal((await app.api('GET', `/projects/${p.id}`)).body.tags.length, 52, 'a refused change changes nothing');
    });

    it('bad input on every projects route is 400 and stores nothing', async () => {
      const before = await stored();
      const bad: Array<[string, string, unknown?]> = [
        ['GET', '/projects?limit=0'],
        ['GET', '/projects?limit=101'],
        ['GET', '/projects?cursor=zzz'],
        ['GET', '/projects?tag='],
        ['GET', '/projects/abc'],
        ['GET', '/projects/1e3'],
        ['GET', '/projects/0'],
        ['GET', '/projects/1?threads_limit=0'],
        ['PUT', '/projects/tags', { add: ['x'] }],
        ['PUT', '/projects/tags', { project_id: 1, add: [''] }],
        ['PUT', '/projects/tags', { project_id: 1, add: ['x'], remove: ['x'] }],
        ['PUT', '/projects/tags', { project_id: '1', add: ['x'] }],
        ['PUT', '/projects/tags', { project_id: 1, add: 'x' }],
        ['PUT', '/projects/tags', { project_id: 1, extra: true }],
      ];
      for (const [method, path, body] of bad) {
        const res = await app.api(method, path, body);
        assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
        assert.ok(['VALIDATION_ERROR', 'BAD_REQUEST'].includes(res.body.error));
      }
      assert.deepEqual(await stored(), before);
    });
  });
}
