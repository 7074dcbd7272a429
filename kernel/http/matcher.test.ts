// The compiled matcher agrees with @koa/router: same route, same params, same pattern; the rest left to the router.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { compileMatcher } from './matcher.ts';

const named = (name: string): Middleware => Object.assign(async () => {}, { label: name });
const label = (m: Middleware | undefined) => (m as unknown as { label?: string } | undefined)?.label;

describe('compiled matcher', () => {
  const router = new Router();
  router.get('/products', named('list'));
  router.get('/products/:id', named('get'));
  router.patch('/products/:id', named('patch'));
  router.get('/config/*key', named('config'));
  router.get('/events/:kind/at/:index', named('at'));
  router.get('/events/stats', named('stats')); // after a pattern that does not match it
  router.get('/:any/shadowed', named('param-first'));
  router.get('/x/shadowed', named('exact-later'));
  const match = compileMatcher(router);

  it('finds exact paths and patterns with decoded params, by method', () => {
    assert.deepEqual({ ...match('GET', '/products')!, middleware: undefined }, { middleware: undefined, pattern: '/products', params: {} });
    const got = match('GET', '/products/a%20b')!;
    assert.equal(label(got.middleware), 'get');
    assert.deepEqual([got.pattern, got.params], ['/products/:id', { id: 'a b' }]);
    assert.equal(label(match('PATCH', '/products/7')!.middleware), 'patch');
    assert.deepEqual(match('GET', '/config/a/b/c')!.params, { key: 'a/b/c' });
    assert.deepEqual(match('GET', '/events/snow/at/3')!.params, { kind: 'snow', index: '3' });
    assert.equal(label(match('GET', '/events/stats')!.middleware), 'stats');
  });

  it('means what the router means: letter case, a trailing slash, the first route registered', () => {
    assert.equal(label(match('GET', '/Products/7')!.middleware), 'get');
    assert.equal(label(match('GET', '/products/')!.middleware), 'list');
    assert.equal(label(match('GET', '/x/shadowed')!.middleware), 'param-first');
  });

  it('leaves HEAD, unknown methods and unknown paths to the router', () => {
    assert.equal(match('HEAD', '/products/7'), undefined);
    assert.equal(match('DELETE', '/products/7'), undefined);
    assert.equal(match('GET', '/nothing/here'), undefined);
    assert.equal(match('GET', '/products/7/more'), undefined);
  });
});
