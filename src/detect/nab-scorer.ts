/**
 * A scorer for the Numenta Anomaly Benchmark, written from NAB's published rules (whitepaper and
 * documentation): probation, anomaly windows, the scaled sigmoid, the three application profiles, one
 * threshold per detector and profile for the whole corpus, and normalisation between the null detector
 * (never fires) and the perfect one (fires at the first row of every window).
 *
 * Pure: callers parse files; this module only does arithmetic on arrays.
 */

export type NabProfileName = "standard" | "reward_low_FP_rate" | "reward_low_FN_rate";

export interface NabCostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

/** NAB's config/profiles.json, which has been stable since NAB 1.0. */
export const NAB_PROFILES: Readonly<Record<NabProfileName, NabCostMatrix>> = {
  standard: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0 },
  reward_low_FP_rate: { tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0 },
  reward_low_FN_rate: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0 },
};

export const NAB_PROFILE_NAMES: readonly NabProfileName[] = [
  "standard",
  "reward_low_FP_rate",
  "reward_low_FN_rate",
];

/** Fraction of each file that is probation (not scored), capped at NAB_PROBATION_MAX_ROWS. */
export const NAB_PROBATION_FRACTION = 0.15;
/** NAB caps probation at 15% of 5000 rows. */
export const NAB_PROBATION_MAX_ROWS = 750;

export function nabProbationRows(rowCount: number): number {
  return Math.min(Math.floor(NAB_PROBATION_FRACTION * rowCount), NAB_PROBATION_MAX_ROWS);
}

/**
 * NAB's weighting: +1 for the very start of a window falling to 0 at its end and towards -1 after it.
 * `position` is -1..0 inside a window (relative to its end) and >0 after it; beyond 3 it is flat -1.
 */
export function scaledSigmoid(position: number): number {
  if (position > 3) return -1;
  return 2 / (1 + Math.exp(5 * position)) - 1;
}

const MAX_TP = scaledSigmoid(-1);

/** A labelled window in epoch milliseconds, both ends inclusive. */
export interface NabWindow {
  start: number;
  end: number;
}

/**
 * The per-row facts the sweep needs: which rows are scorable, which window (if any) each falls in, and
 * the unweighted sigmoid value a detection at that row would earn (>0 in a window, <=0 outside).
 */
export interface NabPreparedFile {
  name: string;
  rowCount: number;
  probation: number;
  /** Per row: window index within this file, -1 outside every window. */
  windowOf: Int32Array;
  /** Per row: scaledSigmoid of the row's relative position (see scaledSigmoid). */
  sigmoid: Float64Array;
  windowCount: number;
}

/** Assigns rows to windows and precomputes each row's weight; `timestamps` must be ascending. */
export function prepareNabFile(
  name: string,
  timestamps: ArrayLike<number>,
  windows: readonly NabWindow[],
): NabPreparedFile {
  const n = timestamps.length;
  const windowOf = new Int32Array(n).fill(-1);
  const sigmoid = new Float64Array(n);
  const bounds: { first: number; last: number }[] = [];
  for (const w of windows) {
    let first = -1;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const t = timestamps[i] as number;
      if (t >= w.start && t <= w.end) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first >= 0) bounds.push({ first, last });
  }
  bounds.sort((a, b) => a.first - b.first);
  let prevLast = -1;
  let prevWidth = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    const cur = bounds[b];
    if (cur !== undefined && i >= cur.first && i <= cur.last) {
      const width = cur.last - cur.first + 1;
      windowOf[i] = b;
      sigmoid[i] = scaledSigmoid(-(cur.last - i + 1) / width);
      if (i === cur.last) {
        prevLast = cur.last;
        prevWidth = width;
        b++;
      }
    } else if (prevLast < 0) {
      sigmoid[i] = -1;
    } else {
      // A one-row window would divide by zero; NAB's data has none, and such a row is "far after".
      sigmoid[i] = prevWidth > 1 ? scaledSigmoid(Math.abs(i - prevLast) / (prevWidth - 1)) : -1;
    }
  }
  return { name, rowCount: n, probation: nabProbationRows(n), windowOf, sigmoid, windowCount: bounds.length };
}

export interface NabProfileResult {
  threshold: number;
  raw: number;
  nullRaw: number;
  perfectRaw: number;
  normalised: number;
  tp: number;
  fp: number;
  fn: number;
}

/** Every scorable row of a corpus, ordered by descending score: built once, swept once per profile. */
export interface NabSweepInput {
  rowScore: Float64Array;
  rowSig: Float64Array;
  rowWin: Int32Array;
  order: Uint32Array;
  windowCount: number;
}

export function buildNabSweep(
  files: readonly NabPreparedFile[],
  scores: readonly ArrayLike<number>[],
): NabSweepInput {
  let total = 0;
  for (const f of files) total += f.rowCount - f.probation;
  const rowScore = new Float64Array(total);
  const rowSig = new Float64Array(total);
  const rowWin = new Int32Array(total);
  let k = 0;
  let windowBase = 0;
  for (let fi = 0; fi < files.length; fi++) {
    const f = files[fi] as NabPreparedFile;
    const s = scores[fi];
    if (s === undefined || s.length !== f.rowCount) {
      throw new Error(`scores for ${f.name}: expected ${f.rowCount} rows, got ${s?.length ?? 0}`);
    }
    for (let i = f.probation; i < f.rowCount; i++) {
      const v = s[i] as number;
      rowScore[k] = Number.isFinite(v) ? v : 0;
      rowSig[k] = f.sigmoid[i] as number;
      const w = f.windowOf[i] as number;
      rowWin[k] = w < 0 ? -1 : windowBase + w;
      k++;
    }
    windowBase += f.windowCount;
  }
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((a, b) => (rowScore[b] as number) - (rowScore[a] as number));
  return { rowScore, rowSig, rowWin, order, windowCount: windowBase };
}

/**
 * The corpus-wide threshold sweep: walking down the rows sorted by score, the running total changes only
 * at the rows being admitted, so each distinct score is one candidate threshold evaluated in O(1). A
 * detection is `score >= threshold`. Ties keep the highest threshold. "Never fire" is a candidate
 * (threshold Infinity), so the null detector scores exactly 0.
 */
export function sweepNab(input: NabSweepInput, cost: NabCostMatrix): NabProfileResult {
  const { rowScore, rowSig, rowWin, order, windowCount } = input;
  const total = order.length;
  const best = new Float64Array(windowCount).fill(Number.NaN);
  let tpSum = 0;
  let fpSum = 0;
  let hits = 0;
  let fps = 0;
  const nullRaw = -cost.fnWeight * windowCount;
  let bestRaw = nullRaw;
  let bestThreshold = Number.POSITIVE_INFINITY;
  let bestTp = 0;
  let bestFp = 0;
  let i = 0;
  while (i < total) {
    const threshold = rowScore[order[i] as number] as number;
    while (i < total && rowScore[order[i] as number] === threshold) {
      const r = order[i] as number;
      const w = rowWin[r] as number;
      const sig = rowSig[r] as number;
      if (w < 0) {
        fpSum += sig * cost.fpWeight;
        fps++;
      } else {
        const prev = best[w] as number;
        if (Number.isNaN(prev)) {
          best[w] = sig;
          tpSum += sig;
          hits++;
        } else if (sig > prev) {
          best[w] = sig;
          tpSum += sig - prev;
        }
      }
      i++;
    }
    const raw = (tpSum / MAX_TP) * cost.tpWeight + fpSum - (windowCount - hits) * cost.fnWeight;
    if (raw > bestRaw) {
      bestRaw = raw;
      bestThreshold = threshold;
      bestTp = hits;
      bestFp = fps;
    }
  }
  const perfectRaw = cost.tpWeight * windowCount;
  const denominator = perfectRaw - nullRaw;
  return {
    threshold: bestThreshold,
    raw: bestRaw,
    nullRaw,
    perfectRaw,
    normalised: denominator > 0 ? (100 * (bestRaw - nullRaw)) / denominator : 0,
    tp: bestTp,
    fp: bestFp,
    fn: windowCount - bestTp,
  };
}

export function scoreNabCorpus(
  files: readonly NabPreparedFile[],
  scores: readonly ArrayLike<number>[],
  cost: NabCostMatrix,
): NabProfileResult {
  return sweepNab(buildNabSweep(files, scores), cost);
}

export type NabScores = Record<NabProfileName, number>;

/** Scores one detector's output under all three profiles; returns normalised scores and details. */
export function scoreNabAllProfiles(
  files: readonly NabPreparedFile[],
  scores: readonly ArrayLike<number>[],
): { scores: NabScores; details: Record<NabProfileName, NabProfileResult> } {
  const details = {} as Record<NabProfileName, NabProfileResult>;
  const out = {} as NabScores;
  const input = buildNabSweep(files, scores);
  for (const p of NAB_PROFILE_NAMES) {
    const r = sweepNab(input, NAB_PROFILES[p]);
    details[p] = r;
    out[p] = r.normalised;
  }
  return { scores: out, details };
}
