// "Only our app may use the REST API": with API_KEYS set, every crowdfund route answers 401 without a key and works with one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENGINES } from '../../kernel/testing/index.ts';
import { proposeAndWait, startCrowdfund, type Api, type Crowdfund } from './testing/index.ts';

const KEY = 'crowdfund-front-end-key-0123456789';

describe('crowdfund routes behind API_KEYS', () => {
  let app: Crowdfund;
  let keyed: Api;
  before(async () => {
    app = await startCrowdfund(ENGINES[0], { API_KEYS: `other-key-abcdefghijklmnop,${KEY}` });
    keyed = (method, path, body, headers = {}) => app.api(method, path, body, { authorization: `Bearer ${KEY}`, ...headers });
  });
  after(() => app?.close());

  it('401 UNAUTHORIZED on every route without a valid key, and nothing stored', async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['POST', '/projects/propose', { project_name: 'x', tagline: 't', problems: ['p'], solutions: ['s'] }],
      ['GET', '/projects'],
      ['GET', '/projects/1'],
      ['PUT', '/projects/tags', { project_id: 1, add: ['a'] }],
      ['GET', '/projects/1/threads'],
      ['POST', '/projects/1/threads', { thread_type: 'comment', message: 'm' }],
      ['PATCH', '/threads/1', { message: 'm' }],
      ['GET', '/threads/1/replies'],
      ['POST', '/threads/1/votes', { direction: 'up' }],
    ];
    for (const [method, path, body] of routes) {
      for (const headers of [{}, { authorization: 'Bearer wrong-key-wrong-key-wrong' }, { 'x-api-key': 'nope' }] as Record<string, string>[]) {
        const res = await app.api(method, path, body, headers);
        assert.deepEqual([res.status, res.body?.error], [401, 'UNAUTHORIZED'], `${method} ${path} ${JSON.stringify(headers)}`);
      }
    }
    const db = app.kernel.databases.get('crowdfund')!.db;
    assert.equal((await db.selectFrom('projects').select('id').execute()).length, 0);
  });

  it('works with a key, as Bearer or X-API-Key', async () => {
    const { id } = await proposeAndWait(keyed, 'Keyed');
    const viaHeader = await app.api('GET', `/projects/${id}`, undefined, { 'x-api-key': KEY });
    assert.equal(viaHeader.status, 200);
    assert.equal(viaHeader.body.threads.length, 3);
    assert.equal((await keyed('POST', `/threads/${viaHeader.body.threads[0].thread_id}/votes`, { direction: 'up' })).status, 200);
  });
});
