/**
 * Forecasting behind an interface, so the detect module's forecasters can replace the linear trend here.
 * Times are milliseconds since the epoch, as everywhere in the series store.
 */
export interface Forecaster {
  /** Predicted values at the times `at`, from the history (oldest first); undefined when it cannot say. */
  forecast(times: ArrayLike<number>, values: ArrayLike<number>, at: readonly number[]): number[] | undefined;
}

/** Least-squares line through the history. Ignores non-finite samples; needs `minSamples` finite ones. */
export class LinearTrendForecaster implements Forecaster {
  constructor(private readonly minSamples = 3) {}

  forecast(times: ArrayLike<number>, values: ArrayLike<number>, at: readonly number[]): number[] | undefined {
    let n = 0;
    let t0 = NaN;
    let st = 0;
    let sv = 0;
    let stt = 0;
    let stv = 0;
    for (let i = 0; i < times.length; i++) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) continue;
      if (Number.isNaN(t0)) t0 = times[i] as number;
      // Centre times on the first sample: epoch milliseconds squared lose precision in doubles.
      const t = (times[i] as number) - t0;
      n++;
      st += t;
      sv += v;
      stt += t * t;
      stv += t * v;
    }
    if (n < Math.max(2, this.minSamples)) return undefined;
    const den = n * stt - st * st;
    if (den === 0) return undefined;
    const slope = (n * stv - st * sv) / den;
    const intercept = (sv - slope * st) / n;
    return at.map((t) => intercept + slope * (t - t0));
  }
}

/** Points at which a forecast is evaluated across the horizon when looking for a crossing. */
export const CROSSING_SEARCH_STEPS = 32;

/**
 * When the forecast first crosses `threshold` within `horizonMs` after `now` (linear interpolation
 * between evaluation points); `now` itself when the last sample is already past it; undefined otherwise.
 */
export function predictCrossing(
  f: Forecaster,
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  rule: { threshold: number; direction: "above" | "below" },
  now: number,
  horizonMs: number,
): number | undefined {
  const past = (v: number) => (rule.direction === "above" ? v >= rule.threshold : v <= rule.threshold);
  const lastV = values[values.length - 1];
  if (lastV !== undefined && past(lastV)) return now;
  const at: number[] = [now];
  for (let i = 1; i <= CROSSING_SEARCH_STEPS; i++) at.push(now + (horizonMs * i) / CROSSING_SEARCH_STEPS);
  const pred = f.forecast(times, values, at);
  if (!pred) return undefined;
  for (let i = 1; i < pred.length; i++) {
    const a = pred[i - 1] as number;
    const b = pred[i] as number;
    if (!past(a) && past(b)) {
      const frac = b === a ? 1 : (rule.threshold - a) / (b - a);
      return Math.round((at[i - 1] as number) + frac * ((at[i] as number) - (at[i - 1] as number)));
    }
    if (i === 1 && past(a)) return now;
  }
  return undefined;
}
