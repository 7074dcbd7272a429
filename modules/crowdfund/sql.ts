// SQL helpers shared by both crowdfund roles: unique-violation detection (write transactions: db/write-transaction.ts; the tables' types: db.ts).

/** A UNIQUE or PRIMARY KEY violation, on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
