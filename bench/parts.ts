// "part k of n, ETA …" on the progress line of a scenario that measures many setups, counted as measure() is called.
import { roundOf } from './scenario.ts';

/**
 * n is learnt rather than declared, so no scenario has to count its own loops: scenarios label round r's runs
 * "… #r" (see roundOf), so when the first run of round 2 starts, the runs so far were one round, and that
 * × --rounds is the total; until then the line says "part k, round 1 of R" and a floor of the ETA (with one
 * round, only "part k"). The ETA is the pace of the parts so far: it includes starting and seeding servers,
 * which the warm-up and run durations alone would leave out.
 */
export class PartCounter {
  private k = 0;
  private perRound: number | undefined;
  private t0 = 0;

  constructor(
    private readonly rounds: number,
    private readonly now = () => performance.now(),
  ) {}

  /** Call as a measurement starts; the returned function gives its progress-line tail at any later moment. */
  start(label: string): () => string {
    const t = this.now();
    if (this.k++ === 0) this.t0 = t;
    if (this.perRound === undefined && roundOf(label).round === 2) this.perRound = this.k - 1;
    const k = this.k;
    // In round 1 only a floor is known: every later round takes at least as long as round 1 has so far.
    if (this.perRound === undefined)
      return () => (this.rounds > 1 ? `  part ${k}, round 1 of ${this.rounds}, ETA > ${clock((this.rounds - 1) * (this.now() - this.t0))}` : `  part ${k}`);
    // Parts after the rounds (a last check …) can outnumber the estimate: never "part 9 of 8".
    const n = Math.max(k, this.perRound * this.rounds);
    const pace = (t - this.t0) / (k - 1);
    return () => `  part ${k} of ${n}, ETA ${clock(this.t0 + n * pace - this.now())}`;
  }
}

/** 45s, 3m05s, 1h02m. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
