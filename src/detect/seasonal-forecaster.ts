import { MS_PER_DAY, MS_PER_WEEK, Ring, SortedWindow, gaussianSurprise } from "./stats.js";
import type { Component, ComponentOutput } from "./types.js";

export interface SeasonalOptions {
  /** Samples in the sliding fit window (bounded memory; 4032 = 14 days at 5 minutes, enough for weekly terms). */
  windowPoints: number;
  /** Refit the coefficients at most this often, in sample time (ms). */
  refitIntervalMs: number;
  /** Fourier orders of the daily and weekly terms. */
  dailyOrder: number;
  weeklyOrder: number;
  /** Samples before the first fit. */
  minFitPoints: number;
  /** Recent absolute residuals kept for the predictive interval. */
  residualPoints: number;
  /** Ridge penalty per sample; keeps the fit stable when the window is shorter than a week. */
  ridgePerPoint: number;
}

export const SEASONAL_DEFAULTS: SeasonalOptions = {
  windowPoints: 4032,
  refitIntervalMs: 3_600_000,
  dailyOrder: 3,
  weeklyOrder: 2,
  minFitPoints: 60,
  residualPoints: 1000,
  ridgePerPoint: 1e-3,
};

const MAD_TO_SIGMA = 1.4826;
/** Ridge per sample that pins a not-yet-enabled seasonal term to ~0. */
const OFF_PENALTY_PER_POINT = 1e6;

export interface Forecast {
  t: number;
  mean: number;
  /** Standard deviation of the predictive distribution (from recent residuals). */
  sigma: number;
}

/**
 * Writes sin(j a), cos(j a) for j = 1..order from out[k] on, by the angle-addition recurrence (two trig
 * calls per seasonality instead of two per harmonic); returns the next index.
 */
function harmonics(out: Float64Array, k: number, a: number, order: number): number {
  if (order <= 0) return k;
  const s1 = Math.sin(a);
  const c1 = Math.cos(a);
  let s = s1;
  let c = c1;
  for (let j = 1; j <= order; j++) {
    out[k++] = s;
    out[k++] = c;
    const sn = s * c1 + c * s1;
    c = c * c1 - s * s1;
    s = sn;
  }
  return k;
}

/**
 * Prophet-style additive model y = a + b*days + daily Fourier + weekly Fourier, fitted by ridge least
 * squares on the last `windowPoints` samples. The normal equations are kept as running sums (add the new
 * sample, subtract the evicted one), so a refit costs O(p^3) with p = 2 + 2*(daily+weekly) terms,
 * independent of the window length; they are recomputed from the window once per window length to
 * stop rounding drift. Anomaly: the residual against the last fit, in units of the residual scale.
 */
export class SeasonalForecaster implements Component {
  readonly name = "seasonal";
  private readonly p: number;
  private ts: Ring;
  private vs: Ring;
  private xtx: Float64Array;
  private xty: Float64Array;
  private beta: Float64Array | null = null;
  private anchor = Number.NaN;
  private lastFitT = Number.NEGATIVE_INFINITY;
  private sinceRecompute = 0;
  private resid: SortedWindow;
  private readonly x: Float64Array;
  // Scratch for fit(), which runs about once per refit interval: no allocation per fit.
  private readonly chol: Float64Array;
  private readonly fwd: Float64Array;
  private readonly sol: Float64Array;

  constructor(readonly opts: SeasonalOptions = SEASONAL_DEFAULTS) {
    this.p = 2 + 2 * (opts.dailyOrder + opts.weeklyOrder);
    this.ts = new Ring(opts.windowPoints);
    this.vs = new Ring(opts.windowPoints);
    this.xtx = new Float64Array(this.p * this.p);
    this.xty = new Float64Array(this.p);
    this.resid = new SortedWindow(opts.residualPoints);
    this.x = new Float64Array(this.p);
    this.chol = new Float64Array(this.p * this.p);
    this.fwd = new Float64Array(this.p);
    this.sol = new Float64Array(this.p);
  }

  private features(t: number, out: Float64Array): void {
    out[0] = 1;
    out[1] = (t - this.anchor) / MS_PER_DAY;
    let k = 2;
    k = harmonics(out, k, (2 * Math.PI * (t % MS_PER_DAY)) / MS_PER_DAY, this.opts.dailyOrder);
    harmonics(out, k, (2 * Math.PI * (t % MS_PER_WEEK)) / MS_PER_WEEK, this.opts.weeklyOrder);
  }

  private accumulate(t: number, v: number, sign: number): void {
    this.features(t, this.x);
    this.accumulateX(this.x, v, sign);
  }

  private accumulateX(x: Float64Array, v: number, sign: number): void {
    const p = this.p;
    for (let i = 0; i < p; i++) {
      const xi = (x[i] as number) * sign;
      this.xty[i] = (this.xty[i] as number) + xi * v;
      const row = i * p;
      for (let j = 0; j <= i; j++) this.xtx[row + j] = (this.xtx[row + j] as number) + xi * (x[j] as number);
    }
  }

  private recompute(): void {
    this.xtx.fill(0);
    this.xty.fill(0);
    this.anchor = this.ts.length > 0 ? this.ts.at(0) : this.anchor;
    for (let i = 0; i < this.ts.length; i++) this.accumulate(this.ts.at(i), this.vs.at(i), 1);
    this.sinceRecompute = 0;
  }

  /** Cholesky solve of (XtX + ridge I) beta = Xty; leaves beta unchanged if not positive definite. */
  private fit(t: number): void {
    const p = this.p;
    const n = this.ts.length;
    const a = this.chol;
    // Like Prophet, a seasonality is only fitted once the window spans two of its periods; before that
    // its terms would pose as trend (a weekly sine over two days is a slope) and wreck extrapolation.
    const span = n > 0 ? this.ts.last() - this.ts.at(0) : 0;
    const dailyOn = span >= 2 * MS_PER_DAY;
    const weeklyOn = span >= 2 * MS_PER_WEEK;
    const firstWeekly = 2 + 2 * this.opts.dailyOrder;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j <= i; j++) a[i * p + j] = this.xtx[i * p + j] as number;
      const on = i < 2 || (i < firstWeekly ? dailyOn : weeklyOn);
      // The intercept is not penalised: a level far from zero must not be shrunk.
      if (i > 0)
        a[i * p + i] =
          (a[i * p + i] as number) +
          (on ? this.opts.ridgePerPoint : OFF_PENALTY_PER_POINT) * n +
          (on ? 0 : 1);
    }
    for (let j = 0; j < p; j++) {
      let d = a[j * p + j] as number;
      for (let k = 0; k < j; k++) d -= (a[j * p + k] as number) ** 2;
      if (!(d > 0)) return;
      const l = Math.sqrt(d);
      a[j * p + j] = l;
      for (let i = j + 1; i < p; i++) {
        let s = a[i * p + j] as number;
        for (let k = 0; k < j; k++) s -= (a[i * p + k] as number) * (a[j * p + k] as number);
        a[i * p + j] = s / l;
      }
    }
    const y = this.fwd;
    for (let i = 0; i < p; i++) {
      let s = this.xty[i] as number;
      for (let k = 0; k < i; k++) s -= (a[i * p + k] as number) * (y[k] as number);
      y[i] = s / (a[i * p + i] as number);
    }
    const b = this.sol;
    let finite = true;
    for (let i = p - 1; i >= 0; i--) {
      let s = y[i] as number;
      for (let k = i + 1; k < p; k++) s -= (a[k * p + i] as number) * (b[k] as number);
      b[i] = s / (a[i * p + i] as number);
      finite &&= Number.isFinite(b[i]);
    }
    if (finite) (this.beta ??= new Float64Array(p)).set(b);
    this.lastFitT = t;
  }

  private predict(t: number): number {
    const b = this.beta;
    if (b === null) return Number.NaN;
    this.features(t, this.x);
    let s = 0;
    for (let i = 0; i < this.p; i++) s += (b[i] as number) * (this.x[i] as number);
    return s;
  }

  private sigma(level: number): number {
    const m = this.resid.median();
    const s = MAD_TO_SIGMA * (Number.isFinite(m) ? m : 0);
    return Math.max(s, 1e-3 * Math.abs(level), 1e-9);
  }

  /** Refits on the current window now (e.g. before forecasting ahead); no-op while too few samples. */
  refitNow(t: number): void {
    if (this.ts.length >= this.opts.minFitPoints) this.fit(t);
  }

  /** The model's forecast for time t (any t, past or future), or null before the first fit. */
  forecast(t: number): Forecast | null {
    if (this.beta === null || this.resid.length === 0) return null;
    const mean = this.predict(t);
    return Number.isFinite(mean) ? { t, mean, sigma: this.sigma(mean) } : null;
  }

  step(t: number, v: number): ComponentOutput {
    if (Number.isNaN(this.anchor)) this.anchor = t;
    let out: ComponentOutput = { surprise: Number.NaN, expected: null };
    // predict() leaves t's features in this.x; the sample's own accumulation reuses them.
    let haveX = false;
    if (this.beta !== null) {
      const yhat = this.predict(t);
      haveX = true;
      if (Number.isFinite(yhat)) {
        const r = v - yhat;
        if (this.resid.length >= 30)
          out = { surprise: gaussianSurprise(r / this.sigma(yhat)), expected: yhat };
        this.resid.push(Math.abs(r));
      }
    }
    const evictedT = this.ts.push(t);
    const evictedV = this.vs.push(v);
    if (haveX) this.accumulateX(this.x, v, 1);
    else this.accumulate(t, v, 1);
    if (evictedT !== undefined && evictedV !== undefined) this.accumulate(evictedT, evictedV, -1);
    this.sinceRecompute++;
    if (this.sinceRecompute >= this.opts.windowPoints) {
      this.recompute();
      this.fit(t);
    } else if (
      this.ts.length >= this.opts.minFitPoints &&
      (this.beta === null || t - this.lastFitT >= this.opts.refitIntervalMs)
    ) {
      this.fit(t);
    }
    return out;
  }

  snapshot(): unknown {
    return {
      t: this.ts.toArray(),
      v: this.vs.toArray(),
      resid: this.resid.values(),
      lastFitT: Number.isFinite(this.lastFitT) ? this.lastFitT : null,
      anchor: Number.isFinite(this.anchor) ? this.anchor : null,
      beta: this.beta === null ? null : Array.from(this.beta),
      xtx: Array.from(this.xtx),
      xty: Array.from(this.xty),
      sinceRecompute: this.sinceRecompute,
    };
  }

  restore(state: unknown): void {
    const s = state as Record<string, unknown>;
    const nums = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === "number");
    if (!nums(s?.t) || !nums(s.v) || !nums(s.resid) || s.t.length !== s.v.length)
      throw new Error("seasonal: bad state");
    if (!nums(s.xtx) || s.xtx.length !== this.p * this.p || !nums(s.xty) || s.xty.length !== this.p)
      throw new Error("seasonal: bad state");
    if (s.beta !== null && (!nums(s.beta) || s.beta.length !== this.p))
      throw new Error("seasonal: bad state");
    this.ts.load(s.t);
    this.vs.load(s.v);
    this.resid.load(s.resid);
    this.xtx.set(s.xtx);
    this.xty.set(s.xty);
    this.beta = s.beta === null ? null : Float64Array.from(s.beta);
    this.anchor = typeof s.anchor === "number" ? s.anchor : Number.NaN;
    this.lastFitT = typeof s.lastFitT === "number" ? s.lastFitT : Number.NEGATIVE_INFINITY;
    this.sinceRecompute = typeof s.sinceRecompute === "number" ? s.sinceRecompute : 0;
  }
}
