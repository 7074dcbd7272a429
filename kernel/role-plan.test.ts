// The role plan: module and role selection, remote roles, and the start-up errors for bad combinations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoModule } from './fixtures/demo/index.ts';
import { z } from 'zod';
import { defineTopic } from './contract.ts';
import { defineModule } from './module.ts';
import type { StartupError } from './config.ts';
import { planRoles, roleUrlVar } from './role-plan.ts';

describe('feature flags', () => {
  it('runs every role by default and selected modules or roles otherwise', () => {
    assert.deepEqual(
      planRoles([demoModule], undefined, {}, false).local.map((r) => r.name),
      ['demo.api', 'demo.client'],
    );
    assert.deepEqual(
      planRoles([demoModule], 'demo.api', {}, false).local.map((r) => r.name),
      ['demo.api'],
    );
  });

  it('fails on an unknown name, listing the valid ones', () => {
    assert.throws(
      () => planRoles([demoModule], 'demo,shoop', {}, false),
      (e: StartupError) => {
        assert.match(e.message, /unknown module or role "shoop"/);
        assert.match(e.message, /demo, demo\.api, demo\.client/);
        return true;
      },
    );
  });

  it('needs a URL for a called role that runs elsewhere', () => {
    assert.throws(() => planRoles([demoModule], 'demo.client', {}, false), /demo\.client calls demo\.api.*DEMO_API_URL/);
    assert.throws(() => planRoles([demoModule], 'demo.client', { DEMO_API_URL: 'nope' }, false), /not a URL/);
    assert.throws(() => planRoles([demoModule], 'demo.client', { DEMO_API_URL: 'grpc://127.0.0.1:9' }, false), /demo\.api has no \.proto/);
    const plan = planRoles([demoModule], 'demo.client', { DEMO_API_URL: 'http://127.0.0.1:9' }, false);
    assert.equal(plan.remote.get('demo.api'), 'http://127.0.0.1:9');
    assert.equal(roleUrlVar('shop.products'), 'SHOP_PRODUCTS_URL');
  });

  it('needs a shared bus only where a published topic has a subscriber in another process', () => {
    const create = () => ({});
    const DONE = defineTopic('pub.done', z.object({}));
    const m = defineModule({
      name: 'pub',
      description: 'publisher, subscriber and a bystander',
      migrations: {},
      roles: { writer: { publishes: [DONE], create }, reader: { subscribes: [DONE], create }, bystander: { create } },
    });
    assert.throws(() => planRoles([m], 'pub.writer', {}, false), /pub\.writer publishes pub\.done, which pub\.reader \(elsewhere\).*EVENT_BUS_URL/);
    assert.doesNotThrow(() => planRoles([m], 'pub.writer', {}, true));
    assert.doesNotThrow(() => planRoles([m], 'pub.writer,pub.reader', {}, false), 'a bystander elsewhere needs no bus');
    assert.doesNotThrow(() => planRoles([m], 'pub.bystander', {}, false));
  });
});
