import { averageRanks, quantileSorted } from "./robust-stats.js";

/** Samples on each side of a candidate change point; also the earliest and latest point we can report. */
export const DEFAULT_ONSET_WINDOW_SAMPLES = 45;
/**
 * Cap on the peak of one metric's squared change statistic, so a single metric with a huge jump cannot
 * outvote the agreement of many metrics (the statistic is a z-score; 100 = 10 sigma).
 */
export const DEFAULT_ONSET_Z2_CAP = 100;

/** The refining pass uses a window this many times shorter than the first. */
export const REFINE_WINDOW_DIVISOR = 3;
/** Shortest refining window (samples): below this the rank statistic is mostly noise. */
export const MIN_REFINE_WINDOW_SAMPLES = 5;

export interface OnsetOptions {
  windowSamples?: number;
  z2Cap?: number;
  /** Second, shorter-window pass that moves a ramp's onset towards its start (default on). */
  refine?: boolean;
}

export interface OnsetProfile {
  /** Index of the first sample after the change (the first anomalous sample). */
  index: number;
  /** Aggregated statistic per index (0 where it cannot be computed). */
  profile: Float64Array;
  /** Peak over the median of the profile, minus 1 (0 = no distinct change). */
  strength: number;
}

/**
 * Per-metric windowed rank change statistic: at each split k, the mean rank of the W samples after k
 * minus the mean rank of the W samples before, as a z-score under exchangeability. Ranks make it free of
 * units and immune to spikes; the window makes a slow trend score the same everywhere while a level
 * shift peaks exactly where it happens.
 */
export function windowedRankChange(values: ArrayLike<number>, windowSamples: number): Float64Array {
  const { ranks, count } = averageRanks(values);
  return rankChange(ranks, count, windowSamples);
}

function rankChange(ranks: Float64Array, count: number, windowSamples: number): Float64Array {
  const n = ranks.length;
  const out = new Float64Array(n);
  if (count < 2 * windowSamples) return out;
  // Prefix sums of ranks and of observed-sample counts, so each window is O(1).
  const sum = new Float64Array(n + 1);
  const cnt = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const r = ranks[i]!;
    const okSample = Number.isFinite(r);
    sum[i + 1] = sum[i]! + (okSample ? r : 0);
    cnt[i + 1] = cnt[i]! + (okSample ? 1 : 0);
  }
  const rankVar = (count * count - 1) / 12;
  const minPerWindow = Math.max(2, Math.floor(windowSamples / 2));
  for (let k = windowSamples; k <= n - windowSamples; k++) {
    const nb = cnt[k]! - cnt[k - windowSamples]!;
    const na = cnt[k + windowSamples]! - cnt[k]!;
    if (nb < minPerWindow || na < minPerWindow) continue;
    const mb = (sum[k]! - sum[k - windowSamples]!) / nb;
    const ma = (sum[k + windowSamples]! - sum[k]!) / na;
    out[k] = (ma - mb) / Math.sqrt(rankVar * (1 / nb + 1 / na));
  }
  return out;
}

/** Sum over metrics of squared windowed rank statistics, each scaled so its peak is at most `cap`. */
function aggregateProfile(
  ranked: readonly { ranks: Float64Array; count: number }[],
  n: number,
  w: number,
  cap: number,
): Float64Array {
  const profile = new Float64Array(n);
  for (const r of ranked) {
    const z = rankChange(r.ranks, r.count, w);
    let peak = 0;
    for (let k = 0; k < z.length; k++) peak = Math.max(peak, z[k]! * z[k]!);
    // Scale rather than clip: clipping flattens a strong metric's peak into a plateau on which weaker,
    // later-moving metrics would decide the location.
    const f = peak > cap ? cap / peak : 1;
    for (let k = 0; k < z.length; k++) profile[k] = profile[k]! + f * z[k]! * z[k]!;
  }
  return profile;
}

function argmax(profile: Float64Array, from: number, to: number): number {
  let index = from;
  for (let k = from; k <= to; k++) if (profile[k]! > profile[index]!) index = k;
  return index;
}

/**
 * Estimates when an incident started from all metrics at once: the split where the most metrics change
 * level together. Each metric contributes its squared windowed rank statistic, scaled down so its peak
 * is at most the cap; the onset is the argmax of the sum. A window-long statistic locates a step
 * exactly but places a ramp (a memory leak) up to one window late, so a second pass with a window a
 * third as long looks for an earlier start within one window before the first estimate.
 * Pure; O(metrics x samples log samples).
 */
export function estimateOnset(series: readonly ArrayLike<number>[], opts: OnsetOptions = {}): OnsetProfile {
  const n = series.reduce((m, s) => Math.max(m, s.length), 0);
  const w0 = opts.windowSamples ?? DEFAULT_ONSET_WINDOW_SAMPLES;
  // Short inputs: shrink the window so that at least one split exists.
  const w = Math.max(2, Math.min(w0, Math.floor(n / 2)));
  const cap = opts.z2Cap ?? DEFAULT_ONSET_Z2_CAP;
  // Ranks once per metric, shared by both passes.
  const ranked = series.map((s) => averageRanks(s));
  const profile = aggregateProfile(ranked, n, w, cap);
  if (n < 2 * w) return { index: Math.min(w, n), profile, strength: 0 };
  const coarse = argmax(profile, w, n - w);
  let index = coarse;
  const wFine = Math.max(MIN_REFINE_WINDOW_SAMPLES, Math.round(w / REFINE_WINDOW_DIVISOR));
  if (opts.refine !== false && wFine < w) {
    const fine = aggregateProfile(ranked, n, wFine, cap);
    index = argmax(fine, Math.max(wFine, coarse - w), Math.min(coarse, n - wFine));
  }
  const best = profile[coarse]!;
  const inner = Float64Array.from(profile.subarray(w, n - w + 1)).sort();
  const mid = quantileSorted(inner, 0.5);
  const strength = best > 0 && mid > 0 ? best / mid - 1 : best > 0 ? best : 0;
  return { index, profile, strength };
}
