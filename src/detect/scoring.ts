import { Ring, clamp01 } from "./stats.js";

export interface ScoringOptions {
  /** score = surprise / (surprise + surpriseScale): the -ln(p) surprise mapped into [0, 1) without saturating. */
  surpriseScale: number;
  /**
   * Calibration against the series' own history: the surprise counts only by how much it exceeds the
   * largest surprise of the last `calibrationPoints` samples, so a series that is often wild must do
   * something it has not done recently to score. 0 disables.
   */
  calibrationPoints: number;
}

export const SCORING_DEFAULTS: ScoringOptions = {
  surpriseScale: 12,
  calibrationPoints: 1000,
};

/**
 * Turns a component's surprise stream into scores in [0, 1]. The trailing maximum is kept in a
 * monotone deque (amortised O(1) per sample, at most `calibrationPoints` entries).
 */
export class ScoreTrack {
  /** Deque of (sample index, surprise) with decreasing surprise; head at `qh`. */
  private qi: Float64Array;
  private qv: Float64Array;
  private qh = 0;
  private qn = 0;
  private i = 0;

  constructor(readonly opts: ScoringOptions) {
    const cap = Math.max(1, opts.calibrationPoints);
    this.qi = new Float64Array(cap);
    this.qv = new Float64Array(cap);
  }

  /** Never NaN: warming-up components (NaN surprise) score 0. */
  score(surprise: number): number {
    if (Number.isNaN(surprise)) return 0;
    let s = surprise === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : surprise;
    const n = this.opts.calibrationPoints;
    if (n > 0) {
      const cap = this.qi.length;
      while (this.qn > 0 && (this.qi[this.qh] as number) <= this.i - n) {
        this.qh = (this.qh + 1) % cap;
        this.qn--;
      }
      const ref = this.qn > 0 ? (this.qv[this.qh] as number) : 0;
      while (this.qn > 0 && (this.qv[(this.qh + this.qn - 1) % cap] as number) <= s) this.qn--;
      const tail = (this.qh + this.qn) % cap;
      this.qi[tail] = this.i;
      this.qv[tail] = s;
      this.qn++;
      this.i++;
      s = Math.max(0, s - ref);
    }
    return clamp01(s / (s + this.opts.surpriseScale));
  }

  snapshot(): unknown {
    const idx: number[] = [];
    const val: number[] = [];
    for (let k = 0; k < this.qn; k++) {
      idx.push(this.qi[(this.qh + k) % this.qi.length] as number);
      val.push(this.qv[(this.qh + k) % this.qi.length] as number);
    }
    return { i: this.i, idx, val };
  }

  restore(state: unknown): void {
    const s = state as { i?: unknown; idx?: unknown; val?: unknown };
    if (
      typeof s?.i !== "number" ||
      !Array.isArray(s.idx) ||
      !Array.isArray(s.val) ||
      s.idx.length !== s.val.length ||
      s.idx.length > this.qi.length
    ) {
      throw new Error("score track: bad state");
    }
    this.i = s.i;
    this.qh = 0;
    this.qn = s.idx.length;
    (s.idx as number[]).forEach((x, k) => (this.qi[k] = x));
    (s.val as number[]).forEach((x, k) => (this.qv[k] = x));
  }
}

export interface SuppressionOptions {
  /** After a score, later scores that do not exceed it are damped for this many samples. 0 disables. */
  suppressPoints: number;
  /** Damping factor applied to a suppressed score. */
  suppressFactor: number;
}

export const SUPPRESSION_DEFAULTS: SuppressionOptions = { suppressPoints: 200, suppressFactor: 0.5 };

/**
 * Suppression after a firing that does not depend on where the alert threshold is set: a score is
 * passed through only if it beats every raw score of the last `suppressPoints` samples; otherwise it is
 * damped. At any threshold, a burst of high scores thus alerts once, at its start.
 */
export class Suppressor {
  private recent: Ring;

  constructor(readonly opts: SuppressionOptions) {
    this.recent = new Ring(Math.max(1, opts.suppressPoints));
  }

  apply(score: number): number {
    if (this.opts.suppressPoints <= 0) return score;
    let max = 0;
    const n = this.recent.length;
    for (let i = 0; i < n; i++) {
      const x = this.recent.at(i);
      if (x > max) max = x;
    }
    this.recent.push(score);
    return score > max ? score : score * this.opts.suppressFactor;
  }

  snapshot(): unknown {
    return { recent: this.recent.toArray() };
  }

  restore(state: unknown): void {
    const s = state as { recent?: unknown };
    if (!Array.isArray(s?.recent)) throw new Error("suppressor: bad state");
    this.recent.load(s.recent as number[]);
  }
}
