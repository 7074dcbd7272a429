// Seeded random data for scenarios (the JMeter Random / UUID / CSV-pool functions), reproducible per seed.
import { randomUUID } from 'node:crypto';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  bool(probability?: number): boolean;
  /** A random v4 UUID (from the crypto source: ids must stay unique across runs, seeds or not). */
  uuid(): string;
  /** An ISO-8601 instant up to `maxAgeMs` before now. */
  recentIso(maxAgeMs?: number): string;
}

/** mulberry32: tiny, fast, good enough for picking test data. */
export function createRandom(seed = Date.now()): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
    bool: (probability = 0.5) => next() < probability,
    uuid: () => randomUUID(),
    recentIso: (maxAgeMs = 3_600_000) => new Date(Date.now() - Math.floor(next() * maxAgeMs)).toISOString(),
  };
}

/** `count` ids like `prefix-0001`, a pool to draw from (the CSV data set of the original test plan). */
export function idPool(prefix: string, count: number): string[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
}
