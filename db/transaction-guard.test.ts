// The transaction guard: a client asked to call out while its caller holds a transaction throws, on both dialects, through
// Kysely's transaction() and writeTransaction(); work a transaction's body left running sees it as ended.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

// The guard is chosen when its module loads: turn it on before anything imports it (npm test sets it for every file).
process.env.CANTONS_TRANSACTION_GUARD = '1';
const { assertOutsideTransaction, NetworkInTransactionError, violations } = await import('./transaction-guard.ts');
const { writeTransaction } = await import('./write-transaction.ts');
const { ENGINES, gate } = await import('../kernel/testing/index.ts');
const { httpTransport } = await import('../kernel/transport/http.ts');
const { defineContract } = await import('../kernel/contract.ts');
const { z } = await import('zod');

const { pino } = await import('pino');
const log = pino({ level: 'silent' });
const call = () => assertOutsideTransaction('a test call');
// Recorded here instead of failing the test process (the default, for violations in the code under test).
const reported: string[] = [];
violations.report = (err) => reported.push(err.message);

for (const dialect of ENGINES) {
  describe(`transaction guard (${dialect.name})`, await gate(...dialect.needs), () => {
    it('refuses inside db.transaction() and writeTransaction(), allows outside, before and after', async () => {
      const { mdb, drop } = await dialect.open('guard', log);
      try {
        call();
        await assert.rejects(
          mdb.db.transaction().execute(async () => call()),
          NetworkInTransactionError,
        );
        await assert.rejects(
          mdb.db
            .transaction()
            .setIsolationLevel('serializable')
            .execute(async () => call()),
          NetworkInTransactionError,
        );
        await assert.rejects(
          writeTransaction(mdb.db, async () => call()),
          NetworkInTransactionError,
        );
        // Inside the body's async calls too: the mark follows the context.
        await assert.rejects(
          mdb.db.transaction().execute(async (trx) => {
            await trx.selectNoFrom((eb) => eb.val(1).as('one')).execute();
            await new Promise((r) => setImmediate(r));
            call();
          }),
          /a test call inside a database transaction/,
        );
        // A timer the body started runs after the commit: not inside the transaction any more.
        let later: Promise<void> | undefined;
        await mdb.db.transaction().execute(async () => {
          later = new Promise<void>((resolve, reject) =>
            setTimeout(() => {
              try {
                call();
                resolve();
              } catch (err) {
                reject(err);
              }
            }, 20),
          );
        });
        await later;
        call();
        assert.equal(reported.length, 4, 'each violation reported, even where the caller might catch it');
        reported.length = 0;
      } finally {
        await mdb.close();
        await drop();
      }
    });
  });
}

describe('transaction guard on a real client', () => {
  it('the HTTP transport refuses to call another role from inside a transaction, before connecting', async () => {
    const contract = defineContract('demo.echo', { ping: { input: z.object({}), output: z.object({}), idempotent: true } });
    // Nothing listens at this address: the refusal comes before any connection is tried.
    const transport = httpTransport({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 1000, retries: 0 });
    const { mdb, drop } = await ENGINES[0].open('guard', log);
    try {
      await assert.rejects(
        mdb.db.transaction().execute(() => transport.call(contract, 'ping', {})),
        /an HTTP call to demo\.echo inside a database transaction/,
      );
    } finally {
      await mdb.close();
      await drop();
    }
  });
});
