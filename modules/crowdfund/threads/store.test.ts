// Thread pages on both dialects, two connections to one database (two threads processes): a page never shows stale data — the SQLite page cache included.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { openModuleDatabase, type ModuleDatabase } from '../../../db/database.ts';
import { migrateUp } from '../../../db/migrator.ts';
import { ENGINES, gate, tempDir } from '../../../kernel/testing/index.ts';
import { THREAD_TYPES } from '../contract.ts';
import type { CrowdfundDatabase } from '../db.ts';
import { migrations } from '../migrations/index.ts';
import { writeTransaction } from '../../../db/write-transaction.ts';
import { createThreadService } from './service.ts';
import { createThreadStore } from './store.ts';

const log = pino({ level: 'silent' });

/** One threads process: its own connection, store and service. */
function threadsProcess(mdb: ModuleDatabase) {
  const db: CrowdfundDatabase = mdb.db;
  const store = createThreadStore(db, mdb.sqlite);
  const service = createThreadService({ db, store, now: () => new Date() });
  return { mdb, db, store, service, facade: service.facade };
}

for (const dialect of ENGINES) {
  describe(`crowdfund thread pages (${dialect.name})`, await gate(...dialect.needs), () => {
    let drop: () => Promise<void>;
    let a: ReturnType<typeof threadsProcess>;
    let b: ReturnType<typeof threadsProcess>;
    let project: number;
    const messages = async (p = a) => (await p.facade.getProjectThreads({ project_id: project })).threads.map((t) => t.message);

    before(async () => {
      // Two connections to one database: the engine's env names it (DATABASE_URL on Postgres; SQLite: this data dir).
      const { env, cleanup } = await dialect.prepare('crowdfund_pages');
      drop = cleanup;
      const dataDir = tempDir();
      const open = () => openModuleDatabase('crowdfund', { dataDir, databaseUrl: env.DATABASE_URL, log });
      const first = await open();
      await migrateUp(first, migrations);
      a = threadsProcess(first);
      b = threadsProcess(await open());
      project = Number(
        (
          await first.db
            .insertInto('projects')
            .values({ project_name: 'p', tagline: 't', created_at: new Date().toISOString() })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id,
      );
      await a.facade.updateThreads({
        project_id: project,
        threads: [
          { thread_type: THREAD_TYPES.problem, message: 'one' },
          { thread_type: THREAD_TYPES.solution, message: 'two' },
        ],
      });
    });
    after(async () => {
      await a?.service.stop();
      await b?.service.stop();
      await a?.mdb.close();
      await b?.mdb.close();
      await drop?.();
    });

    it("a page shows each of this process's writes at once: insert, new message, votes, replies, a consumer's transaction", async () => {
      assert.deepEqual(await messages(), ['one', 'two']);
      const [first] = (await a.facade.getProjectThreads({ project_id: project })).threads;
      await a.facade.updateThreads({ project_id: project, threads: [{ message: 'three' }] });
      assert.deepEqual(await messages(), ['one', 'two', 'three']);
      await a.facade.updateThreads({ project_id: project, threads: [{ thread_id: first.thread_id, message: 'one, rewritten' }] });
      assert.deepEqual(await messages(), ['one, rewritten', 'two', 'three']);
      await a.facade.vote({ thread_id: first.thread_id, direction: 'UP' });
      await a.facade.vote({ thread_id: first.thread_id, direction: 'DOWN', voter_id: 'ann' });
      const voted = (await a.facade.getProjectThreads({ project_id: project })).threads[0];
      assert.deepEqual([voted.up_votes, voted.down_votes], [1, 1]);
      await a.facade.updateThreads({ project_id: project, threads: [{ message: 'a reply', parent_thread_id: first.thread_id }] });
      assert.equal((await a.facade.getProjectThreads({ project_id: project })).threads[0].reply_count, 1);
      // The kernel's consumer runs applyProposal in its own transaction (inbox entry included).
      await a.db
        .transaction()
        .execute((trx) => a.service.applyProposal(trx, { project_id: project, problems: ['from an event'], solutions: ['its solution'] }));
      assert.deepEqual((await messages()).slice(-2), ['from an event', 'its solution']);
    });

    it("a page shows another process's commit at once (two threads processes on one database)", async () => {
      const before = await messages(a);
      await b.facade.updateThreads({ project_id: project, threads: [{ message: 'written by b' }] });
      assert.deepEqual(await messages(a), [...before, 'written by b']);
      const target = (await a.facade.getProjectThreads({ project_id: project })).threads[1];
      const counts = await b.facade.vote({ thread_id: target.thread_id, direction: 'UP' });
      assert.equal((await a.facade.getProjectThreads({ project_id: project })).threads[1].up_votes, counts.up_votes);
      // A write that bypasses our code altogether, on b's connection.
      await sql`update threads set message = 'changed under a' where id = ${target.thread_id}`.execute(b.mdb.db);
      assert.equal((await a.facade.getProjectThreads({ project_id: project })).threads[1].message, 'changed under a');
      // Pages with a cursor, a limit and a type filter see it too.
      const page = await a.facade.getProjectThreads({
        project_id: project,
        limit: 1,
        cursor: (await a.facade.getProjectThreads({ project_id: project, limit: 1 })).next_cursor,
      });
      assert.equal(page.threads[0].message, 'changed under a');
      assert.equal((await a.facade.getProjectThreads({ project_id: project, thread_types: [THREAD_TYPES.solution] })).threads[0].message, 'changed under a');
    });

    it('a read while this process is inside a transaction never sees its uncommitted rows, and sees them once committed', async () => {
      const before = await messages();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let inside!: () => void;
      const started = new Promise<void>((resolve) => (inside = resolve));
      const trx = writeTransaction(a.mdb.db, async (t) => {
        await a.store.insert(t, { project_id: project, thread_type: 0, message: 'uncommitted', parent_thread_id: 0, created_at: new Date().toISOString() });
        inside();
        await held;
        throw new Error('rolled back');
      });
      await started;
      const during = messages();
      // On Postgres another pooled connection answers at once; on SQLite the read waits for the transaction.
      await new Promise((r) => setTimeout(r, 50));
      release();
      await assert.rejects(trx, /rolled back/);
      assert.deepEqual(await during, before);
      assert.deepEqual(await messages(), before);

      let go!: () => void;
      const gate2 = new Promise<void>((resolve) => (go = resolve));
      const committing = writeTransaction(a.mdb.db, async (t) => {
        await a.store.insert(t, { project_id: project, thread_type: 0, message: 'committed', parent_thread_id: 0, created_at: new Date().toISOString() });
        await gate2;
      });
      const reading = messages();
      go();
      await committing;
      const seen = await reading;
      assert.ok(seen.length === before.length || seen.at(-1) === 'committed', `before or after the commit, never between: ${seen}`);
      assert.deepEqual(await messages(), [...before, 'committed']);
    });

    it(
      dialect.name === 'SQLite'
        ? 'SQLite: an unchanged page is served again, frozen (the page cache)'
        : 'Postgres: every page is read from the database (no page cache)',
      async () => {
        const first = await a.facade.getProjectThreads({ project_id: project });
        const second = await a.facade.getProjectThreads({ project_id: project });
        assert.deepEqual(second, first);
        if (dialect.name === 'SQLite') {
          assert.equal(second.threads, first.threads, 'the same cached page');
          assert.ok(Object.isFrozen(first.threads) && Object.isFrozen(first.threads[0]));
          assert.throws(() => ((first.threads[0] as { message: string }).message = 'mutated'));
        } else assert.notEqual(second.threads, first.threads);
      },
    );
  });
}
