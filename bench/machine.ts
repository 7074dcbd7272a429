// How busy the whole machine was (Linux /proc/stat), so a run can say how much CPU other work took beside it.
import { readFileSync } from 'node:fs';

export interface MachineCpu {
  /** CPU time spent by every process on every core (user, nice, system, irq, softirq), ms. */
  busyMs: number;
  /** Time the hypervisor gave our vCPUs to someone else, ms. */
  stealMs: number;
}

const TICK_MS = 10; // USER_HZ is 100 on every Linux we run on

/** Totals since boot; null off Linux. */
export function machineCpu(): MachineCpu | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busyMs: (user + nice + system + irq + softirq) * TICK_MS, stealMs: (steal ?? 0) * TICK_MS };
  } catch {
    return null;
  }
}

/**
 * CPU other processes used between two readings, percent of one core: the machine's busy time minus what
 * the measured processes (`ownMs`: servers and load generator) used. Never below 0 (tick rounding).
 */
export function otherCpuPercent(before: MachineCpu | null, after: MachineCpu | null, ownMs: number | null, elapsedMs: number): number | null {
  if (!before || !after || ownMs === null || elapsedMs <= 0) return null;
  return Math.max(0, Math.round(((after.busyMs - before.busyMs - ownMs) / elapsedMs) * 100));
}

/**
 * Waits for a quiet second: samples the machine each second until processes other than ours (`ownMs()`: the
 * bench and its servers, cumulative) used less than `maxPercent` of a core, or `timeoutMs` passed.
 */
export async function waitForQuiet(
  maxPercent: number,
  timeoutMs: number,
  ownMs: () => number | null,
): Promise<{ waitedMs: number; otherPercent: number | null }> {
  const t0 = performance.now();
  for (;;) {
    const [m0, own0, s0] = [machineCpu(), ownMs(), performance.now()];
    await new Promise((r) => setTimeout(r, 1000));
    const own1 = ownMs();
    const other = otherCpuPercent(m0, machineCpu(), own0 === null || own1 === null ? null : own1 - own0, performance.now() - s0);
    const waitedMs = Math.round(performance.now() - t0);
    if (other === null || other < maxPercent || waitedMs >= timeoutMs) return { waitedMs, otherPercent: other };
  }
}
