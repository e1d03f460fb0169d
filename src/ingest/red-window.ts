/**
 * RED (rate, errors, duration) over a sliding window of fixed slots, with a latency histogram per slot,
 * plus totals since start. Slots are indexed by clock time, so the window moves without timers.
 */

/** Upper bounds (ms) of the latency histogram: exponential, factor 1.5 from 0.1 ms to ~4 min; then +Inf. */
export const LATENCY_BUCKETS_MS: readonly number[] = (() => {
  const out: number[] = [];
  for (let b = 0.1; b < 250_000; b *= 1.5) out.push(Number(b.toPrecision(3)));
  return out;
})();
const NB = LATENCY_BUCKETS_MS.length + 1;

/** Length of the window that rates and percentiles describe (ms). */
export const DEFAULT_RED_WINDOW_MS = 60_000;
/** Slots per window: the window advances in steps of window/slots. */
export const RED_WINDOW_SLOTS = 12;

export interface RedSnapshot {
  /** Requests and errors in the window, and per second over it. */
  requests: number;
  errors: number;
  rate: number;
  errorRate: number;
  /** Share of requests that failed, 0 when there were none. */
  errorRatio: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number };
  /** Cumulative histogram over the window: count of requests with latency <= le (ms). Last le is "+Inf". */
  histogram: { le: number | "+Inf"; count: number }[];
  totals: { requests: number; errors: number };
}

function bucketOf(ms: number): number {
  // Binary search: 45 bounds, so at most 6 steps.
  let lo = 0;
  let hi = LATENCY_BUCKETS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ms <= (LATENCY_BUCKETS_MS[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Quantile by linear interpolation inside the bucket, as Prometheus' histogram_quantile does. */
export function histogramQuantile(q: number, counts: ArrayLike<number>, total: number): number {
  if (total === 0) return 0;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (cum + c >= rank && c > 0) {
      if (i >= LATENCY_BUCKETS_MS.length) return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1] as number;
      const lower = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] as number);
      const upper = LATENCY_BUCKETS_MS[i] as number;
      return lower + ((upper - lower) * (rank - cum)) / c;
    }
    cum += c;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1] as number;
}

export class RedWindow {
  private readonly slotMs: number;
  private readonly slotIds: Float64Array;
  private readonly counts: Float64Array;
  private readonly errs: Float64Array;
  private readonly sums: Float64Array;
  private readonly hist: Uint32Array;
  totalRequests = 0;
  totalErrors = 0;

  constructor(private readonly windowMs: number = DEFAULT_RED_WINDOW_MS) {
    this.slotMs = windowMs / RED_WINDOW_SLOTS;
    this.slotIds = new Float64Array(RED_WINDOW_SLOTS).fill(-1);
    this.counts = new Float64Array(RED_WINDOW_SLOTS);
    this.errs = new Float64Array(RED_WINDOW_SLOTS);
    this.sums = new Float64Array(RED_WINDOW_SLOTS);
    this.hist = new Uint32Array(RED_WINDOW_SLOTS * NB);
  }

  record(now: number, durationMs: number, error: boolean): void {
    const id = Math.floor(now / this.slotMs);
    const s = id % RED_WINDOW_SLOTS;
    if (this.slotIds[s] !== id) {
      this.slotIds[s] = id;
      this.counts[s] = 0;
      this.errs[s] = 0;
      this.sums[s] = 0;
      this.hist.fill(0, s * NB, (s + 1) * NB);
    }
    this.counts[s] = (this.counts[s] as number) + 1;
    this.sums[s] = (this.sums[s] as number) + durationMs;
    if (error) {
      this.errs[s] = (this.errs[s] as number) + 1;
      this.totalErrors++;
    }
    this.totalRequests++;
    const h = s * NB + bucketOf(durationMs);
    this.hist[h] = (this.hist[h] as number) + 1;
  }

  snapshot(now: number): RedSnapshot {
    const current = Math.floor(now / this.slotMs);
    const merged = new Float64Array(NB);
    let requests = 0;
    let errors = 0;
    let sum = 0;
    for (let s = 0; s < RED_WINDOW_SLOTS; s++) {
      const id = this.slotIds[s] as number;
      if (id < 0 || id > current || id <= current - RED_WINDOW_SLOTS) continue;
      requests += this.counts[s] as number;
      errors += this.errs[s] as number;
      sum += this.sums[s] as number;
      for (let b = 0; b < NB; b++) merged[b] = (merged[b] as number) + (this.hist[s * NB + b] as number);
    }
    const seconds = this.windowMs / 1000;
    const histogram: RedSnapshot["histogram"] = [];
    let cum = 0;
    for (let b = 0; b < NB; b++) {
      cum += merged[b] as number;
      histogram.push({
        le: b < LATENCY_BUCKETS_MS.length ? (LATENCY_BUCKETS_MS[b] as number) : "+Inf",
        count: cum,
      });
    }
    return {
      requests,
      errors,
      rate: requests / seconds,
      errorRate: errors / seconds,
      errorRatio: requests > 0 ? errors / requests : 0,
      latencyMs: {
        p50: histogramQuantile(0.5, merged, requests),
        p90: histogramQuantile(0.9, merged, requests),
        p99: histogramQuantile(0.99, merged, requests),
        mean: requests > 0 ? sum / requests : 0,
      },
      histogram,
      totals: { requests: this.totalRequests, errors: this.totalErrors },
    };
  }
}
