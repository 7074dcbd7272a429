// What every part of the scale scenario seeds with: a module's database file migrated by the module's own
// migrations, then filled through one prepared statement in big transactions; progress lines; a process's memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLogger } from '../../kernel/logger.ts';
import type { ModuleDefinition } from '../../kernel/module.ts';
import { openMigratedDatabase } from '../../kernel/module-database.ts';

/** Creates `<dataDir>/<module>.sqlite` with every migration of the module (and the bus tables) applied. */
export async function migrateModule(module: ModuleDefinition<any>, dataDir: string): Promise<string> {
  const config = { DATA_DIR: dataDir, DATABASE_URL: undefined, DB_CONNECT_ATTEMPTS: 1, DB_CONNECT_BASE_MS: 100, DB_CONNECT_MAX_MS: 100 };
  const mdb = await openMigratedDatabase(module, config, createLogger('warn'));
  await mdb.close();
  return join(dataDir, `${module.name}.sqlite`);
}

/**
 * The file opened for a bulk load: no journal, no fsync (a crash mid-seed loses only the seed), a big page cache.
 * `done` puts WAL back, as the server opens it.
 */
export function openForSeeding(file: string): { db: Database.Database; done(): void } {
  const db = new Database(file);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -400000');
  db.pragma('foreign_keys = OFF');
  return {
    db,
    done() {
      db.pragma('journal_mode = WAL');
      db.close();
    },
  };
}

/**
 * Runs `insert(i)` for i in [0, count) in transactions of `batch`, logging progress every few seconds.
 * Returns the seconds it took.
 */
export function fill(
  db: Database.Database,
  count: number,
  insert: (i: number) => void,
  progress: (line: string) => void,
  what: string,
  batch = 100_000,
): number {
  const t0 = performance.now();
  let lastLog = t0;
  const chunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert(i);
  });
  for (let from = 0; from < count; from += batch) {
    chunk(from, Math.min(count, from + batch));
    const now = performance.now();
    if (now - lastLog > 3000 && from + batch < count) {
      lastLog = now;
      const done = from + batch;
      progress(
        `  seeding ${what}: ${done.toLocaleString('en')} of ${count.toLocaleString('en')} (${Math.round(done / ((now - t0) / 1000)).toLocaleString('en')}/s)`,
      );
    }
  }
  return (performance.now() - t0) / 1000;
}

/** Resident and peak resident memory of a process, MB (Linux /proc; null elsewhere). */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, peakMb: Math.round(kb('VmHWM') / 102.4) / 10 };
  } catch {
    return null;
  }
}

export const count = (n: number) => n.toLocaleString('en');
export const seconds = (s: number) => `${s.toFixed(1)} s`;
