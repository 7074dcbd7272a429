// Query strings parsed once per text: Koa's object shape, shared frozen, and refused text never cached.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { checkedQuery } from './route.ts';

const app = new Koa();
const ctxFor = (url: string) => app.createContext({ url, method: 'GET', headers: {}, socket: {} } as never, {} as never);

describe('checkedQuery', () => {
  it('gives what ctx.query gives, once per query text, frozen', () => {
    const a = checkedQuery(ctxFor('/x?use_cache=true&tag=a&tag=b&e=%20'));
    assert.deepEqual({ ...a }, { ...ctxFor('/x?use_cache=true&tag=a&tag=b&e=%20').query });
    assert.equal(checkedQuery(ctxFor('/y?use_cache=true&tag=a&tag=b&e=%20')), a);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.tag));
  });

  it('refuses NUL and lone surrogates every time', () => {
    for (let i = 0; i < 2; i++) {
      assert.throws(() => checkedQuery(ctxFor('/x?q=a%00b')), { code: 'VALIDATION_ERROR' });
      assert.throws(() => checkedQuery(ctxFor('/x?%00=1')), { code: 'VALIDATION_ERROR' });
    }
  });
});
