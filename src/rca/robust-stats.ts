/**
 * Order statistics that ignore missing samples. Metrics arrive with gaps (a scrape failed, a cell in a
 * CSV was empty), so every helper here skips NaN and reports NaN only when nothing is left.
 */

/** Finite values of `values[from..to)`, sorted ascending. */
export function sortedFinite(values: ArrayLike<number>, from = 0, to = values.length): Float64Array {
  const out = new Float64Array(Math.max(0, to - from));
  let n = 0;
  for (let i = from; i < to; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) out[n++] = v;
  }
  return out.subarray(0, n).sort();
}

/** Linear-interpolated quantile (type 7, as numpy and R default) of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export function median(values: ArrayLike<number>): number {
  return quantileSorted(sortedFinite(values), 0.5);
}

/** Interquartile range (q75 - q25) of the finite values. */
export function iqr(values: ArrayLike<number>): number {
  const s = sortedFinite(values);
  return quantileSorted(s, 0.75) - quantileSorted(s, 0.25);
}

/** Median absolute deviation from the median (unscaled). */
export function mad(values: ArrayLike<number>, center = median(values)): number {
  const dev: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) dev.push(Math.abs(v - center));
  }
  return quantileSorted(Float64Array.from(dev).sort(), 0.5);
}

/**
 * Ranks 1..m of the finite values (average rank for ties, so a forward-filled metric that repeats a value
 * is not given an order it does not have); NaN stays NaN. Returns the ranks and m.
 */
export function averageRanks(values: ArrayLike<number>): { ranks: Float64Array; count: number } {
  // Numeric sort of a copy plus two binary searches per sample: no comparator callback, which keeps
  // this fast enough to run over a thousand metrics per incident.
  const sorted = sortedFinite(values);
  const m = sorted.length;
  const n = values.length;
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      ranks[i] = Number.NaN;
      continue;
    }
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    // Positions first..lo-1 hold v: their average 1-based rank.
    ranks[i] = (first + lo - 1) / 2 + 1;
  }
  return { ranks, count: m };
}
