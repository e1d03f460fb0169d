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
/**
 * A deviation counts only at the level the metric holds for this many consecutive samples (1 = the
 * plain BARO maximum). A fault lasts; a one-sample spike (a GC pause, a scrape glitch) does not, and with
 * the plain maximum one such spike anywhere after the onset outranks a real but moderate shift.
 */
export const DEFAULT_PERSISTENCE_SAMPLES = 3;

export interface ScoringOptions {
  relativeScaleFloor?: number;
  movedScore?: number;
  persistenceSamples?: number;
}

export interface MetricScore {
  score: number;
  direction: "up" | "down";
  median: number;
  iqr: number;
  scale: number;
  /** Index of the sample that sets the score (-1 when no finite sample follows the onset). */
  peakIndex: number;
  /** Start of the metric's first excursion beyond the moved band after the onset (-1 if none). */
  onsetIndex: number;
}

/**
 * BARO-style robust score of one metric: median and IQR of the samples before `onsetIndex`, then the
 * largest |x - median| / IQR at or after it that the metric holds for `persistenceSamples` consecutive
 * samples (with 1, exactly the BARO maximum). Missing samples are ignored. Pure.
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

  // Deviation of each sample after the onset, in scales (NaN where the sample is missing).
  const dev = new Float64Array(Math.max(0, n - cut));
  for (let i = cut; i < n; i++) {
    const v = values[i]!;
    dev[i - cut] = Number.isFinite(v) ? Math.abs(v - median) / scale : Number.NaN;
  }
  // Level held for `persist` consecutive samples from i: the smallest finite deviation in the run.
  const persist = Math.max(1, Math.min(opts.persistenceSamples ?? DEFAULT_PERSISTENCE_SAMPLES, dev.length));
  let score = 0;
  let peakIndex = -1;
  let firstOver = -1;
  for (let i = 0; i + persist <= dev.length; i++) {
    let level = Number.POSITIVE_INFINITY;
    let at = -1;
    for (let j = i; j < i + persist; j++) {
      const d = dev[j]!;
      if (d < level) {
        level = d;
        at = j;
      }
    }
    if (at < 0) continue; // every sample in the run is missing
    if (firstOver < 0 && level >= moved) firstOver = i + cut;
    if (level > score || peakIndex < 0) {
      score = level;
      peakIndex = at + cut;
    }
  }
  const direction: "up" | "down" = peakIndex >= 0 && values[peakIndex]! < median ? "down" : "up";
  // The excursion may have begun before the onset we were given (a late onset): walk back to its start.
  let start = firstOver;
  while (start > 0) {
    const v = values[start - 1]!;
    if (!Number.isFinite(v) || Math.abs(v - median) / scale < moved) break;
    start--;
  }
  return { score, direction, median, iqr, scale, peakIndex, onsetIndex: start };
}
