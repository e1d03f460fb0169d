import { SeasonalForecaster, SEASONAL_DEFAULTS } from "./seasonal-forecaster.js";
import type { SeasonalOptions } from "./seasonal-forecaster.js";
import type { Component, ComponentOutput } from "./types.js";

export interface CoarseOptions {
  /**
   * Samples averaged into one block; the forecaster sees one value per block (24 = 2 hours at 5 minutes).
   * Compared on NAB: 2 to 32 samples; 12 to 32 all within a point and a half, 24 best. Counted in
   * samples, not time, like every other window here (blocks of 1 to 4 hours of sample time scored lower).
   */
  blockPoints: number;
  /** Options of the seasonal forecaster that reads the block means. */
  seasonal: SeasonalOptions;
}

export const COARSE_DEFAULTS: CoarseOptions = {
  blockPoints: 24,
  // One block mean arrives per blockPoints samples, so refitting every 24 h of sample time keeps about as
  // many blocks between refits as the fine forecaster has samples between its hourly refits.
  seasonal: { ...SEASONAL_DEFAULTS, refitIntervalMs: 24 * 3_600_000 },
};

/**
 * The seasonal forecaster on block means: a deviation too small to stand out of one sample's noise, but
 * held for hours, shows in the mean of a block. Its window of `windowPoints` blocks also reaches back
 * `blockPoints` times further than the fine forecaster's. A surprise is emitted once per block, on the
 * block's last sample (0 on the others).
 */
export class CoarseSeasonal implements Component {
  readonly name = "coarse";
  private readonly inner: SeasonalForecaster;
  private sum = 0;
  private count = 0;

  constructor(readonly opts: CoarseOptions = COARSE_DEFAULTS) {
    if (!(opts.blockPoints >= 1)) throw new Error("coarse: blockPoints must be at least 1");
    this.inner = new SeasonalForecaster(opts.seasonal);
  }

  step(t: number, v: number): ComponentOutput {
    this.sum += v;
    this.count++;
    if (this.count < this.opts.blockPoints) return { surprise: 0, expected: null };
    const mean = this.sum / this.count;
    this.sum = 0;
    this.count = 0;
    return this.inner.step(t, mean);
  }

  snapshot(): unknown {
    return { sum: this.sum, count: this.count, inner: this.inner.snapshot() };
  }

  restore(state: unknown): void {
    const s = state as { sum?: unknown; count?: unknown; inner?: unknown };
    if (
      typeof s?.sum !== "number" ||
      !Number.isFinite(s.sum) ||
      typeof s.count !== "number" ||
      !Number.isInteger(s.count) ||
      s.count < 0 ||
      s.count >= this.opts.blockPoints ||
      (s.count === 0 && s.sum !== 0)
    )
      throw new Error("coarse: bad state");
    this.inner.restore(s.inner);
    this.sum = s.sum;
    this.count = s.count;
  }
}
