import { Ring, SortedWindow, upperTailSurprise } from "./stats.js";
import type { Component, ComponentOutput } from "./types.js";

export interface ShiftOptions {
  /** Samples in the recent window whose distribution is tested. */
  recentPoints: number;
  /** Samples in the reference window (the samples just before the recent window). */
  referencePoints: number;
  /** Quantile bins of the reference distribution. */
  bins: number;
  /** Bin edges are recomputed from the reference every this many samples. */
  edgeRefreshPoints: number;
}

export const SHIFT_DEFAULTS: ShiftOptions = {
  recentPoints: 48,
  referencePoints: 1000,
  bins: 8,
  edgeRefreshPoints: 32,
};

/**
 * Distribution shift: the last `recentPoints` samples are binned by the quantiles of the
 * `referencePoints` samples before them; under "nothing changed" each bin holds 1/bins of them. The G
 * (relative entropy) statistic of the observed counts against that expectation, through its chi-square
 * tail, is the surprise. It sees level shifts, a signal that stops varying (all samples in the middle
 * bins) and a change of spread, which point-wise residual tests miss.
 */
export class DistributionShift implements Component {
  readonly name = "shift";
  private recent: Ring;
  private reference: SortedWindow;
  private edges: Float64Array;
  private sinceEdges = Number.POSITIVE_INFINITY;
  private readonly counts: Float64Array;
  /** Share of the reference in each bin at the last edge refresh (exact with ties). */
  private readonly shares: Float64Array;

  constructor(readonly opts: ShiftOptions = SHIFT_DEFAULTS) {
    this.recent = new Ring(opts.recentPoints);
    this.reference = new SortedWindow(opts.referencePoints);
    this.edges = new Float64Array(Math.max(1, opts.bins - 1));
    this.counts = new Float64Array(opts.bins);
    this.shares = new Float64Array(opts.bins);
  }

  private bin(v: number): number {
    const e = this.edges;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((e[mid] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  step(_t: number, v: number): ComponentOutput {
    const evicted = this.recent.push(v);
    if (evicted !== undefined) this.reference.push(evicted);
    const ready =
      this.reference.length >= Math.min(this.opts.referencePoints, 4 * this.opts.recentPoints) &&
      this.recent.length === this.opts.recentPoints;
    if (!ready) return { surprise: Number.NaN, expected: null };
    const counts = this.counts;
    const bins = this.opts.bins;
    if (this.sinceEdges >= this.opts.edgeRefreshPoints) {
      // New edges: recount the recent window and the reference shares once; in between, counts are
      // updated incrementally as samples enter and leave the recent window.
      for (let k = 1; k < bins; k++) this.edges[k - 1] = this.reference.quantile(k / bins);
      const n = this.reference.length;
      let below = 0;
      for (let b = 0; b < bins; b++) {
        const upto = b === bins - 1 ? n : this.reference.countBelowOrEqual(this.edges[b] as number);
        this.shares[b] = Math.max((upto - below) / n, 0.5 / n);
        below = upto;
      }
      counts.fill(0);
      for (let i = 0; i < this.recent.length; i++) {
        const b = this.bin(this.recent.at(i));
        counts[b] = (counts[b] as number) + 1;
      }
      this.sinceEdges = 0;
    } else {
      const b = this.bin(v);
      counts[b] = (counts[b] as number) + 1;
      if (evicted !== undefined) {
        const e = this.bin(evicted);
        counts[e] = (counts[e] as number) - 1;
      }
    }
    this.sinceEdges++;
    const n = this.recent.length;
    let g = 0;
    for (let b = 0; b < bins; b++) {
      const o = counts[b] as number;
      if (o > 0) g += 2 * o * Math.log(o / ((this.shares[b] as number) * n));
    }
    const df = bins - 1;
    const z = (Math.cbrt(Math.max(g, 0) / df) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
    return { surprise: upperTailSurprise(z), expected: this.reference.median() };
  }

  snapshot(): unknown {
    return {
      recent: this.recent.toArray(),
      reference: this.reference.values(),
      edges: Array.from(this.edges),
      counts: Array.from(this.counts),
      shares: Array.from(this.shares),
      sinceEdges: Number.isFinite(this.sinceEdges) ? this.sinceEdges : null,
    };
  }

  restore(state: unknown): void {
    const s = state as Record<string, unknown>;
    const nums = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === "number");
    if (!nums(s?.recent) || !nums(s.reference)) throw new Error("shift: bad state");
    this.recent.load(s.recent);
    this.reference.load(s.reference);
    if (nums(s.edges) && s.edges.length === this.edges.length) this.edges.set(s.edges);
    if (nums(s.counts) && s.counts.length === this.counts.length) this.counts.set(s.counts);
    if (nums(s.shares) && s.shares.length === this.shares.length) this.shares.set(s.shares);
    this.sinceEdges = typeof s.sinceEdges === "number" ? s.sinceEdges : Number.POSITIVE_INFINITY;
  }
}
