import type { Component, ComponentOutput } from "./types.js";

export interface StuckOptions {
  /**
   * A run shorter than this many samples never counts as stuck: a few equal samples in a row are common
   * in coarse-grained series (counts, percentages) and say nothing. Compared on NAB: 5, 10, 20 (10 and
   * 20 equal, 5 a quarter point lower).
   */
  minRunPoints: number;
  /**
   * Runs (stretches of one repeated value) the series must have had before a run is judged: "longer than
   * every run before" means little after a handful of runs. Compared on NAB: 0, 20, 100 (within 0.05).
   */
  minRuns: number;
  /** Multiplies the surprise ln(runs + 1); compared on NAB: 1, 2, 3 and 6 (3 best, all within a point). */
  surpriseScale: number;
}

export const STUCK_DEFAULTS: StuckOptions = {
  minRunPoints: 10,
  minRuns: 20,
  surpriseScale: 3,
};

/**
 * A value stuck for longer than ever before: an exporter that hangs, a counter that stops, a key held
 * down. The series is cut into runs of one repeated value; when the current run grows past the longest
 * finished run, once per run, the surprise is ln(runs + 1) x surpriseScale: if runs were exchangeable,
 * the chance that the newest of runs + 1 is the longest is 1 / (runs + 1). The other members see a
 * flatline only while it is new against a window; this one remembers the longest run for good. Five
 * numbers of state.
 */
export class StuckValue implements Component {
  readonly name = "stuck";
  private last = Number.NaN;
  private run = 0;
  private longest = 0;
  private runs = 0;
  private fired = false;

  constructor(readonly opts: StuckOptions = STUCK_DEFAULTS) {}

  step(_t: number, v: number): ComponentOutput {
    if (v === this.last) this.run++;
    else {
      if (this.run > 0) {
        this.runs++;
        if (this.run > this.longest) this.longest = this.run;
      }
      this.run = 1;
      this.fired = false;
      this.last = v;
    }
    if (this.runs < this.opts.minRuns) return { surprise: Number.NaN, expected: null };
    if (!this.fired && this.run >= this.opts.minRunPoints && this.run > this.longest) {
      this.fired = true;
      return { surprise: Math.log(this.runs + 1) * this.opts.surpriseScale, expected: null };
    }
    return { surprise: 0, expected: null };
  }

  snapshot(): unknown {
    return {
      last: Number.isFinite(this.last) ? this.last : null,
      run: this.run,
      longest: this.longest,
      runs: this.runs,
      fired: this.fired,
    };
  }

  restore(state: unknown): void {
    const s = state as Record<string, unknown>;
    const count = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0;
    if (
      !(s?.last === null || (typeof s?.last === "number" && Number.isFinite(s.last))) ||
      !count(s.run) ||
      !count(s.longest) ||
      !count(s.runs) ||
      typeof s.fired !== "boolean" ||
      // A value and its run exist together: the first sample starts both.
      (s.last === null) !== (s.run === 0)
    )
      throw new Error("stuck: bad state");
    this.last = s.last === null ? Number.NaN : s.last;
    this.run = s.run;
    this.longest = s.longest;
    this.runs = s.runs;
    this.fired = s.fired;
  }
}
