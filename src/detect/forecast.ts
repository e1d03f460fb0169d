import { SeasonalForecaster, SEASONAL_DEFAULTS } from "./seasonal-forecaster.js";
import type { Forecast, SeasonalOptions } from "./seasonal-forecaster.js";

export interface CrossingOptions {
  /** How far ahead to look, ms. */
  horizonMs: number;
  /** Forecast step, ms (defaults to the series' median sample interval, else 1 min). */
  stepMs?: number;
  /** "above": crossing upwards; "below": downwards; "auto": towards the threshold from the current forecast. */
  direction?: "above" | "below" | "auto";
  /** Width of the predictive band in sigmas used for `earliestAt`. */
  bandSigmas?: number;
}

/** Default look-ahead for predictive alerting: 6 hours. */
export const DEFAULT_CROSSING_HORIZON_MS = 6 * 3_600_000;
/** Band for the "could cross as early as" estimate: about a 95% predictive interval. */
export const DEFAULT_BAND_SIGMAS = 2;
const DEFAULT_STEP_MS = 60_000;
/** Look-ahead is walked in at most this many steps (bounds the work per call). */
export const MAX_CROSSING_STEPS = 10_000;

export interface CrossingForecast {
  threshold: number;
  direction: "above" | "below";
  /** First time the forecast mean crosses the threshold, or null within the horizon. */
  crossesAt: number | null;
  /** Minutes from `from` to crossesAt. */
  inMinutes: number | null;
  /** First time the edge of the predictive band crosses it (an earlier, less certain warning). */
  earliestAt: number | null;
  /** Forecast at crossesAt (or at the horizon when there is no crossing). */
  forecast: Forecast;
  /** "this series will cross threshold T in about N minutes", or that it will not within the horizon. */
  message: string;
}

/**
 * Predictive alerting from a fitted seasonal forecaster: walks its forecast from `from` forward and
 * reports when it crosses `threshold`. Returns null when the model has not fitted yet.
 */
export function predictCrossing(
  model: SeasonalForecaster,
  from: number,
  threshold: number,
  options: CrossingOptions,
): CrossingForecast | null {
  const now = model.forecast(from);
  if (now === null || !Number.isFinite(threshold)) return null;
  const horizon = Math.max(0, options.horizonMs);
  const step = Math.max(options.stepMs ?? DEFAULT_STEP_MS, horizon / MAX_CROSSING_STEPS, 1);
  const band = options.bandSigmas ?? DEFAULT_BAND_SIGMAS;
  const dir =
    options.direction === undefined || options.direction === "auto"
      ? threshold >= now.mean
        ? "above"
        : "below"
      : options.direction;
  const crossed = (x: number): boolean => (dir === "above" ? x >= threshold : x <= threshold);
  let earliestAt: number | null = null;
  let last = now;
  for (let t = from; t <= from + horizon; t += step) {
    const f = model.forecast(t);
    if (f === null) break;
    last = f;
    const edge = dir === "above" ? f.mean + band * f.sigma : f.mean - band * f.sigma;
    if (earliestAt === null && crossed(edge)) earliestAt = t;
    if (crossed(f.mean)) {
      const inMinutes = Math.round((t - from) / 60_000);
      return {
        threshold,
        direction: dir,
        crossesAt: t,
        inMinutes,
        earliestAt: earliestAt ?? t,
        forecast: f,
        message: `will cross ${dir} ${threshold} in about ${inMinutes} minutes (forecast ${f.mean.toPrecision(4)} ± ${(band * f.sigma).toPrecision(3)})`,
      };
    }
  }
  return {
    threshold,
    direction: dir,
    crossesAt: null,
    inMinutes: null,
    earliestAt,
    forecast: last,
    message: `not forecast to cross ${dir} ${threshold} within ${Math.round(horizon / 60_000)} minutes`,
  };
}

/**
 * Convenience for a series held in memory: fits the seasonal forecaster on (t, v) (ascending, finite)
 * and predicts the crossing from the last sample on.
 */
export function forecastThresholdCrossing(
  t: ArrayLike<number>,
  v: ArrayLike<number>,
  threshold: number,
  options: Partial<CrossingOptions> = {},
  model: Partial<SeasonalOptions> = {},
): CrossingForecast | null {
  const n = Math.min(t.length, v.length);
  if (n === 0) return null;
  const fc = new SeasonalForecaster({ ...SEASONAL_DEFAULTS, ...model });
  let prev = Number.NEGATIVE_INFINITY;
  const gaps: number[] = [];
  for (let i = 0; i < n; i++) {
    const ti = t[i] as number;
    const vi = v[i] as number;
    if (!Number.isFinite(ti) || !Number.isFinite(vi) || ti < prev) continue;
    if (Number.isFinite(prev) && ti > prev) gaps.push(ti - prev);
    fc.step(ti, vi);
    prev = ti;
  }
  fc.refitNow(prev);
  gaps.sort((a, b) => a - b);
  const stepMs = options.stepMs ?? gaps[gaps.length >> 1] ?? DEFAULT_STEP_MS;
  return predictCrossing(fc, prev, threshold, {
    horizonMs: options.horizonMs ?? DEFAULT_CROSSING_HORIZON_MS,
    stepMs,
    direction: options.direction ?? "auto",
    bandSigmas: options.bandSigmas ?? DEFAULT_BAND_SIGMAS,
  });
}
