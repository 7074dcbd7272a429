// SQL helpers shared by both crowdfund roles: unique-violation detection and numeric columns (write transactions: db/write-transaction.ts).

/** A UNIQUE or PRIMARY KEY violation, on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export const num = (v: unknown) => Number(v);
