import { SortedWindow, gaussianSurprise } from "./stats.js";
import type { Component, ComponentOutput } from "./types.js";

export interface RobustOptions {
  /** Samples in the median/MAD window. */
  windowPoints: number;
  /** Samples before the first score. */
  warmupPoints: number;
}

export const ROBUST_DEFAULTS: RobustOptions = { windowPoints: 400, warmupPoints: 30 };

/** 1.4826 * MAD estimates a Gaussian sigma. */
const MAD_TO_SIGMA = 1.4826;
/** Relative scale floor: a (near) constant series still has a finite, meaningful z for any change. */
const REL_SCALE_FLOOR = 1e-3;
const ABS_SCALE_FLOOR = 1e-9;

/**
 * Windowed median/MAD baseline: z = (v - median) / (1.4826 MAD) over the last `windowPoints` samples.
 * When more than half the window is one value (MAD = 0, e.g. a mostly-idle disk) the scale falls back to
 * the inter-decile range, then to a small fraction of the level, so that z stays finite.
 */
export class RobustBaseline implements Component {
  readonly name = "robust";
  private win: SortedWindow;

  constructor(readonly opts: RobustOptions = ROBUST_DEFAULTS) {
    this.win = new SortedWindow(opts.windowPoints);
  }

  scale(m: number): number {
    const mad = this.win.mad(m);
    if (mad > 0) return MAD_TO_SIGMA * mad;
    const spread = (this.win.quantile(0.95) - this.win.quantile(0.05)) / 3.29;
    return Math.max(spread, REL_SCALE_FLOOR * Math.abs(m), ABS_SCALE_FLOOR);
  }

  step(_t: number, v: number): ComponentOutput {
    let out: ComponentOutput = { surprise: Number.NaN, expected: null };
    if (this.win.length >= this.opts.warmupPoints) {
      const m = this.win.median();
      const z = (v - m) / this.scale(m);
      out = { surprise: gaussianSurprise(z), expected: m };
    }
    this.win.push(v);
    return out;
  }

  snapshot(): unknown {
    return { values: this.win.values() };
  }

  restore(state: unknown): void {
    const s = state as { values?: unknown };
    if (!Array.isArray(s?.values) || !s.values.every((x) => typeof x === "number"))
      throw new Error("robust: bad state");
    this.win = new SortedWindow(this.opts.windowPoints);
    this.win.load(s.values);
  }
}
