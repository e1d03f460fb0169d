import { quantileSorted, sortedFinite } from "./robust-stats.js";

/**
 * When a metric had no spread before the onset (IQR 0: a flat memory gauge, a forward-filled scrape),
 * its scale falls back to this share of its level. A move smaller than 1% of a metric's level is not
 * evidence of a fault even if the metric was perfectly flat; without the floor every flat gauge that
 * ticks by one page would outrank a real CPU hog.
 */
export const DEFAULT_RELATIVE_SCALE_FLOOR = 0.01;
/** Score (in normal-period IQRs) from which a metric counts as moved, in evidence and signatures. */
export const DEFAULT_MOVED_SCORE = 5;

export interface ScoringOptions {
  relativeScaleFloor?: number;
  movedScore?: number;
}

export interface MetricScore {
  score: number;
  direction: "up" | "down";
  median: number;
  iqr: number;
  scale: number;
  /** Index of the largest deviation after the onset (-1 when no finite sample follows the onset). */
  peakIndex: number;
  /** Start of the metric's first excursion beyond the moved band after the onset (-1 if none). */
  onsetIndex: number;
}

/**
 * BARO-style robust score of one metric: median and IQR of the samples before `onsetIndex`, then the
 * largest |x - median| / IQR at or after it. Missing samples are ignored. Pure.
 */
export function scoreMetric(
  values: ArrayLike<number>,
  onsetIndex: number,
  opts: ScoringOptions = {},
): MetricScore {
  const floorShare = opts.relativeScaleFloor ?? DEFAULT_RELATIVE_SCALE_FLOOR;
  const moved = opts.movedScore ?? DEFAULT_MOVED_SCORE;
  const n = values.length;
  const cut = Math.max(0, Math.min(n, onsetIndex));
  const normal = sortedFinite(values, 0, cut);
  const none: MetricScore = {
    score: 0,
    direction: "up",
    median: Number.NaN,
    iqr: Number.NaN,
    scale: Number.NaN,
    peakIndex: -1,
    onsetIndex: -1,
  };
  if (normal.length === 0) return none;
  const median = quantileSorted(normal, 0.5);
  const iqr = quantileSorted(normal, 0.75) - quantileSorted(normal, 0.25);
  let level = Math.abs(median);
  if (level === 0) {
    // A gauge at zero (no errors yet) has no level to take a share of: use its largest magnitude.
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (Number.isFinite(v)) level = Math.max(level, Math.abs(v));
    }
  }
  const scale = Math.max(iqr, floorShare * level);
  if (!(scale > 0)) return { ...none, median, iqr, scale: 0 };

  let score = 0;
  let peakIndex = -1;
  let direction: "up" | "down" = "up";
  let firstOver = -1;
  for (let i = cut; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    const d = Math.abs(v - median) / scale;
    if (firstOver < 0 && d >= moved) firstOver = i;
    if (d > score || peakIndex < 0) {
      score = d;
      peakIndex = i;
      direction = v >= median ? "up" : "down";
    }
  }
  // The excursion may have begun before the onset we were given (a late onset): walk back to its start.
  let start = firstOver;
  while (start > 0) {
    const v = values[start - 1]!;
    if (!Number.isFinite(v) || Math.abs(v - median) / scale < moved) break;
    start--;
  }
  return { score, direction, median, iqr, scale, peakIndex, onsetIndex: start };
}
