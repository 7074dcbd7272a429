// The statement cache under Kysely's SQLite driver: reuse by SQL text, a fresh statement while one is busy, LRU bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { withStatementCache } from './statement-cache.ts';

test('reuses a statement by its text, hands out a fresh one while it is iterating, keeps the 500 most recent', () => {
  const raw = new SQLite(':memory:');
  const db = withStatementCache(raw);
  raw.exec('create table t (n integer); insert into t values (1), (2), (3)');
  const select = 'select n from t order by n';
  const first = db.prepare(select);
  assert.equal(db.prepare(select), first, 'same text, same statement');

  const rows = first.iterate(); // busy until the iteration ends
  assert.deepEqual(rows.next().value, { n: 1 });
  const other = db.prepare(select);
  assert.notEqual(other, first, 'a busy statement is not handed out again');
  assert.deepEqual(other.all(), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  rows.return?.();
  assert.equal(db.prepare(select), first, 'once it is done, the cached one again');

  for (let i = 0; i < 500; i++) db.prepare(`select ${i}`);
  assert.notEqual(db.prepare(select), first, 'least recently used, evicted after 500 others');
  db.close();
});
