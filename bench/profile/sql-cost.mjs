// Loaded with NODE_OPTIONS=--import (plain JS, as it loads before tsx): the CPU each SQLite statement text costs in this
// process, from SIGUSR2 (sent after warm-up) to exit, written to SQL_COST_FILE as JSON. Each better-sqlite3 run/get/all
// is timed with process.cpuUsage around it (≈ 1 µs added per statement), so the statements compare with each other and
// with a floor measured the same way; a commit's CPU includes its fsync's system time.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const file = process.env.SQL_COST_FILE;
if (file) {
  const Database = createRequire(import.meta.url)('better-sqlite3');
  const statement = Object.getPrototypeOf(new Database(':memory:').prepare('select 1'));
  /** Per statement text: calls and CPU µs. */
  const costs = new Map();
  let counting = false;
  for (const method of ['run', 'get', 'all']) {
    const original = statement[method];
    statement[method] = function (...args) {
      if (!counting) return original.apply(this, args);
      const before = process.cpuUsage();
      try {
        return original.apply(this, args);
      } finally {
        const used = process.cpuUsage(before);
        const cost = costs.get(this.source) ?? { calls: 0, cpuUs: 0 };
        cost.calls++;
        cost.cpuUs += used.user + used.system;
        costs.set(this.source, cost);
      }
    };
  }
  process.on('SIGUSR2', () => {
    counting = true;
  });
  process.once('exit', () => writeFileSync(file, JSON.stringify([...costs].map(([sql, c]) => ({ sql, ...c })))));
}
