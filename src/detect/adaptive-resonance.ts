import { z } from "zod";
import { Ring, SortedWindow } from "./stats.js";
import type { Component, ComponentOutput } from "./types.js";

export interface ResonanceOptions {
  /**
   * Samples per downsampled step (samples): each step keeps the block's most extreme sample (or its mean
   * when nothing stands out), so a one-sample spike survives. ARTime sets this from the file's length
   * (about 1 to 7 on NAB); online we cannot, so it is one number. Compared on NAB: 4 to 14.
   */
  stepPoints: number;
  /** Downsampled steps in one feature window (steps; a power of two, for the Haar transform). */
  windowSteps: number;
  /**
   * Downsampled steps learned before the first score (steps): at their end the starting vigilance is
   * estimated from them in one batch. With stepPoints 10, 112 steps are 1,120 samples.
   */
  warmupSteps: number;
  /** Levels the value range is quantised into (levels). */
  levels: number;
  /**
   * A quantised value closer than this to the running median is snapped to it (fraction of the value
   * range): small wobbles are one pattern, not many.
   */
  snapToMedian: number;
  /** Downsampled steps the running median is taken over (steps). */
  medianSteps: number;
  /**
   * Most categories kept (categories); when full, the one matched longest ago is replaced. 32 numbers of
   * state each; on NAB no series needed more than about 550.
   */
  maxCategories: number;
}

export const RESONANCE_DEFAULTS: ResonanceOptions = {
  stepPoints: 10,
  windowSteps: 8,
  warmupSteps: 112,
  levels: 80,
  snapToMedian: 0.125,
  medianSteps: 1000,
  maxCategories: 1024,
};

// The constants below follow ARTime (Hampton, NAB 2021) and were not tuned here.
/** Vigilance used to estimate the starting vigilance from the warm-up batch. */
const INITIAL_VIGILANCE = 0.8;
/** The upper vigilance (the running mean of the best match) never exceeds this. */
const UPPER_VIGILANCE_CAP = 0.97;
/** Share of the gap to the worst recent match the lower vigilance closes on each update when rising. */
const LOWER_VIGILANCE_RISE = 0.19;
/** When falling, the lower vigilance moves by half the mean recent shortfall, each shortfall capped here. */
const SHORTFALL_CAP = 0.37;
/** Shortfalls below this do not count; the fall is at least MIN_FALL / 2. */
const SHORTFALL_FLOOR = 0.05;
const MIN_FALL = 0.01;
/** A block whose extreme is within this fraction of its mean is represented by its mean. */
const SPIKE_FRACTION = 0.1;

/**
 * Adaptive resonance over downsampled windows, after ARTime (the best detector on NAB's published
 * board): each window of downsampled values becomes a feature vector (the values themselves on a grid
 * spread by the running min/max, and the Haar wavelet coefficients of the window's own shape); a
 * dual-vigilance fuzzy ART network learns these as hyperbox categories. A window that resonates with no
 * category closely enough to join even its cluster is new: its confidence is the score. Vigilance adapts
 * to the series, and a new category masks the next few steps, so one change alerts once.
 *
 * ARTime reads each file's minimum, maximum and length first; this member does not. Categories are
 * boxes on the running min/max grid and are moved exactly when that grid widens (an affine map takes a
 * box to a box). Its output is already a score in [0, 1] (`calibrated`): inside the ensemble it joins by
 * maximum, scaled, rather than through the calibrated mean.
 */
export class AdaptiveResonance implements Component {
  readonly name = "resonance";
  readonly calibrated = true;
  private readonly dim: number;
  private readonly mask: number;
  // Downsampling
  private blockSum = 0;
  private blockMin = Number.POSITIVE_INFINITY;
  private blockMax = Number.NEGATIVE_INFINITY;
  private blockN = 0;
  private movingMean = 0;
  private steps = 0;
  // Grid: the raw running min/max, and the one the stored features are expressed in
  private rawMin = Number.POSITIVE_INFINITY;
  private rawMax = Number.NEGATIVE_INFINITY;
  private gridMin = Number.NaN;
  private gridMax = Number.NaN;
  private readonly median: SortedWindow;
  /** Last windowSteps quantised values on the grid, oldest first. */
  private readonly recent: Float64Array;
  // Network: categories are complement-coded boxes [lower..., 1 - upper...], 2 * dim numbers each
  private cats: Float64Array;
  private catUsed: Float64Array;
  /** Per category: the sum of its complement-coded weights (its size in the match), kept with it. */
  private catSize: Float64Array;
  private nCats = 0;
  private lowerVigilance = 0;
  private upperVigilance = 0;
  private match = 0;
  private matchEnergy = 0;
  private warm: Float64Array | null;
  // Adaptation
  private matchSum = 0;
  private readonly recentMatch: Ring;
  private readonly recentShortfall: Ring;
  private anomalyMatchSum = 0;
  private anomalyCount = 0;
  /** The match of the last anomaly as it stands in the mean (lowered while its mask lasts). */
  private anomalyMatchLast = 0;
  /** The match of the last anomaly when it fired. */
  private lastAnomalyMatch = 0;
  private lastAnomalyStep = Number.NEGATIVE_INFINITY;
  private lastVigilanceStep = 0;
  private maskAfterNew = false;
  private sinceNew = 0;
  // Scratch
  private readonly features: Float64Array;
  private readonly scratch: Float64Array;
  private readonly scratch2: Float64Array;
  private matches: Float64Array;
  private readonly complement: Float64Array;

  constructor(readonly opts: ResonanceOptions = RESONANCE_DEFAULTS) {
    const w = opts.windowSteps;
    const whole = (x: number, min: number): boolean => Number.isInteger(x) && x >= min;
    if (
      !whole(opts.stepPoints, 1) ||
      !whole(w, 2) ||
      (w & (w - 1)) !== 0 ||
      !whole(opts.warmupSteps, w + 2) ||
      !whole(opts.levels, 1) ||
      !(opts.snapToMedian >= 0 && opts.snapToMedian < 1) ||
      !whole(opts.medianSteps, 1) ||
      !whole(opts.maxCategories, 2)
    )
      throw new Error("resonance: bad options");
    this.dim = 2 * w;
    this.mask = Math.floor(w * 1.5);
    this.median = new SortedWindow(opts.medianSteps);
    this.recent = new Float64Array(w);
    this.cats = new Float64Array(0);
    this.catUsed = new Float64Array(0);
    this.catSize = new Float64Array(0);
    this.complement = new Float64Array(this.dim);
    this.matches = new Float64Array(0);
    this.warm = new Float64Array(opts.warmupSteps * this.dim);
    this.recentMatch = new Ring(Math.floor(opts.warmupSteps / 2) + 1);
    this.recentShortfall = new Ring(opts.warmupSteps + 1);
    this.features = new Float64Array(this.dim);
    this.scratch = new Float64Array(w);
    this.scratch2 = new Float64Array(w);
  }

  step(_t: number, v: number): ComponentOutput {
    if (v < this.rawMin) this.rawMin = v;
    if (v > this.rawMax) this.rawMax = v;
    this.blockSum += v;
    this.blockN++;
    if (v < this.blockMin) this.blockMin = v;
    if (v > this.blockMax) this.blockMax = v;
    if (this.blockN < this.opts.stepPoints) {
      return { surprise: this.warm === null ? 0 : Number.NaN, expected: this.expected() };
    }
    const score = this.downsampled();
    this.blockSum = 0;
    this.blockN = 0;
    this.blockMin = Number.POSITIVE_INFINITY;
    this.blockMax = Number.NEGATIVE_INFINITY;
    return { surprise: score, expected: Number.isNaN(score) ? null : this.expected() };
  }

  /** What it takes as typical once it has learned: the running median of the downsampled values. */
  private expected(): number | null {
    return this.warm === null ? this.median.median() : null;
  }

  /** One downsampled step: NaN while warming up, else the anomaly confidence (0 when nothing is new). */
  private downsampled(): number {
    const mean = this.blockSum / this.blockN;
    this.movingMean = this.steps === 0 ? mean : (this.movingMean + mean) / 2;
    // The block's extreme on the side farther from the moving mean, unless it barely differs from the mean.
    let ds =
      Math.abs(this.blockMax - this.movingMean) < Math.abs(this.blockMin - this.movingMean)
        ? this.blockMin
        : this.blockMax;
    if (Math.abs(ds - mean) < SPIKE_FRACTION * Math.abs(mean)) ds = mean;
    this.regrid();
    this.median.push(ds);
    let q = this.level(ds);
    const med = this.level(this.median.median());
    if (Math.abs(q - med) < this.opts.snapToMedian) q = med;
    const w = this.opts.windowSteps;
    this.recent.copyWithin(0, 1);
    this.recent[w - 1] = q;
    this.steps++;
    this.buildFeatures();
    return this.learn(this.steps);
  }

  /** How many of the window's slots hold values: one per step so far, up to the window. */
  private filled(): number {
    return Math.min(this.steps, this.opts.windowSteps);
  }

  /** The value's position on the grid, quantised to `levels`. */
  private level(x: number): number {
    return Math.round(this.normalise(x) * this.opts.levels) / this.opts.levels;
  }

  private normalise(x: number): number {
    const range = this.gridMax - this.gridMin;
    return range > 0 ? (x - this.gridMin) / range : 0;
  }

  /** Follows the running min/max; stored boxes and values move with the grid (an affine map). */
  private regrid(): void {
    if (this.rawMin === this.gridMin && this.rawMax === this.gridMax) return;
    const oldMin = this.gridMin;
    const oldRange = this.gridMax - this.gridMin;
    this.gridMin = this.rawMin;
    this.gridMax = this.rawMax;
    const range = this.gridMax - this.gridMin;
    if (Number.isNaN(oldMin) || !(range > 0)) return;
    const move = (u: number): number => (oldMin + u * oldRange - this.gridMin) / range;
    const w = this.opts.windowSteps;
    const d = this.dim;
    for (let c = 0; c < this.nCats; c++) {
      const base = c * 2 * d;
      for (let k = w; k < d; k++) {
        this.cats[base + k] = move(this.cats[base + k] as number);
        this.cats[base + d + k] = 1 - move(1 - (this.cats[base + d + k] as number));
      }
      this.resize(c);
    }
    if (this.warm !== null)
      for (let s = 0; s < Math.min(this.steps, this.opts.warmupSteps); s++)
        for (let k = w; k < d; k++) this.warm[s * d + k] = move(this.warm[s * d + k] as number);
    for (let k = w - this.filled(); k < w; k++) this.recent[k] = move(this.recent[k] as number);
  }

  /** Features: the window's Haar coefficients of its own min-max-scaled shape, then its values on the grid. */
  private buildFeatures(): void {
    const w = this.opts.windowSteps;
    const f = this.features;
    if (this.filled() < w) {
      f.fill(0);
      return;
    }
    const x = this.scratch;
    x.set(this.recent);
    scale01(x);
    haar(x, this.scratch2);
    scale01(x);
    f.set(x, 0);
    f.set(this.recent, w);
  }

  private learn(step: number): number {
    const T = this.opts.warmupSteps;
    if (this.warm !== null) {
      this.warm.set(this.features, (step - 1) * this.dim);
      if (step < T) return Number.NaN;
      const v = this.startingVigilance(this.warm);
      this.lowerVigilance = v;
      this.upperVigilance = v;
      const batch = this.warm;
      this.warm = null;
      for (let s = 1; s <= T; s++) this.detect(batch.subarray((s - 1) * this.dim, s * this.dim), s);
      return Number.NaN;
    }
    return this.detect(this.features, step);
  }

  /**
   * The starting vigilance: the warm-up windows, least typical first (by summed cosine similarity), are
   * learned at INITIAL_VIGILANCE; the mean best match over the second half is where matches sit here.
   */
  private startingVigilance(batch: Float64Array): number {
    const d = this.dim;
    const first = this.opts.windowSteps - 1;
    const n = this.opts.warmupSteps - first;
    const at = Array.from({ length: n }, (_, i) => batch.subarray((first + i) * d, (first + i + 1) * d));
    const typical = new Float64Array(n).fill(1);
    for (let a = 0; a < n; a++)
      for (let b = 0; b < a; b++) {
        const c = cosine(at[a] as Float64Array, at[b] as Float64Array);
        typical[a] = (typical[a] as number) + c;
        typical[b] = (typical[b] as number) + c;
      }
    const order = Array.from({ length: n }, (_, i) => i).sort(
      (p, q) => (typical[p] as number) - (typical[q] as number),
    );
    const probe = new AdaptiveResonance(this.opts);
    probe.lowerVigilance = INITIAL_VIGILANCE;
    probe.upperVigilance = INITIAL_VIGILANCE;
    let sum = 0;
    let count = 0;
    const from = Math.floor(this.opts.warmupSteps / 2) - 1;
    order.forEach((i, k) => {
      probe.train(at[i] as Float64Array, true);
      if (k >= from) {
        sum += k === 0 ? 0 : probe.match;
        count++;
      }
    });
    return count > 0 ? sum / count : INITIAL_VIGILANCE;
  }

  /** Matches x against every category; learns into all that pass the upper vigilance, else adds one. */
  private train(x: Float64Array, learning: boolean): "resonant" | "cluster" | "new" {
    const d = this.dim;
    const n = this.nCats;
    if (this.matches.length < n)
      this.matches = new Float64Array(Math.min(this.opts.maxCategories, 2 * n + 16));
    let best = 0;
    let bestEnergy = 0;
    const cats = this.cats;
    const xc = this.complement;
    for (let k = 0; k < d; k++) xc[k] = 1 - (x[k] as number);
    const xl = x[d - 1] as number;
    const upper = this.upperVigilance;
    for (let c = 0; c < n; c++) {
      const base = c * 2 * d;
      const hiBase = base + d;
      // "Energy": the match on the newest value alone. The full match is at most its square, so a category
      // that can neither be the best nor resonate is skipped (most categories, at other levels).
      const lo = cats[hiBase - 1] as number;
      const hi = cats[hiBase + d - 1] as number;
      const es = lo + hi === 0 ? 1 : (Math.min(xl, lo) + Math.min(1 - xl, hi)) / (lo + hi);
      if (es * es < upper && es * es <= best) {
        this.matches[c] = 0;
        continue;
      }
      let overlap = 0;
      for (let k = 0; k < d; k++) {
        overlap +=
          Math.min(x[k] as number, cats[base + k] as number) +
          Math.min(xc[k] as number, cats[hiBase + k] as number);
      }
      const size = this.catSize[c] as number;
      const fs = overlap / (size === 0 ? 0.001 : size);
      const m = fs * fs * fs * es * es;
      this.matches[c] = m;
      if (m > best) {
        best = m;
        bestEnergy = es;
      }
    }
    this.match = best;
    this.matchEnergy = bestEnergy;
    if (!learning) return "resonant";
    let resonant = false;
    for (let c = 0; c < n; c++) {
      if ((this.matches[c] as number) < this.upperVigilance) continue;
      const base = c * 2 * d;
      for (let k = 0; k < d; k++) {
        const xk = x[k] as number;
        if (xk < (cats[base + k] as number)) cats[base + k] = xk;
        if (1 - xk < (cats[base + d + k] as number)) cats[base + d + k] = 1 - xk;
      }
      this.resize(c);
      this.catUsed[c] = this.steps;
      resonant = true;
    }
    if (resonant) return "resonant";
    this.addCategory(x);
    return n > 0 && best >= this.lowerVigilance ? "cluster" : "new";
  }

  private addCategory(x: Float64Array): void {
    const d = this.dim;
    let slot = this.nCats;
    if (slot >= this.opts.maxCategories) {
      slot = 0;
      for (let c = 1; c < this.nCats; c++)
        if ((this.catUsed[c] as number) < (this.catUsed[slot] as number)) slot = c;
    } else {
      if ((slot + 1) * 2 * d > this.cats.length) {
        const cap = Math.min(this.opts.maxCategories, Math.max(16, 2 * slot));
        const grown = new Float64Array(cap * 2 * d);
        grown.set(this.cats);
        this.cats = grown;
        const used = new Float64Array(cap);
        used.set(this.catUsed);
        this.catUsed = used;
        const sizes = new Float64Array(cap);
        sizes.set(this.catSize);
        this.catSize = sizes;
      }
      this.nCats++;
    }
    const base = slot * 2 * d;
    for (let k = 0; k < d; k++) {
      this.cats[base + k] = x[k] as number;
      this.cats[base + d + k] = 1 - (x[k] as number);
    }
    this.resize(slot);
    this.catUsed[slot] = this.steps;
  }

  private resize(c: number): void {
    const d = this.dim;
    const base = c * 2 * d;
    let size = 0;
    for (let k = 0; k < d; k++) size += (this.cats[base + k] as number) + (this.cats[base + d + k] as number);
    this.catSize[c] = size;
  }

  private detect(x: Float64Array, i: number): number {
    const T = this.opts.warmupSteps;
    const L = this.mask;
    const updateAfterAnomaly = i - this.lastAnomalyStep === L;
    const updateForTrend = i - this.lastVigilanceStep >= Math.floor(T / 2);
    const maskAfterAnomaly = i - this.lastAnomalyStep <= L;
    if (i > T + L && this.maskAfterNew && this.sinceNew >= L) this.maskAfterNew = false;
    const kind = this.train(x, i >= this.opts.windowSteps);
    const isNew = kind === "new";
    this.sinceNew = isNew ? 0 : this.sinceNew + 1;
    const a = this.match;
    this.matchSum += a;
    this.recentMatch.push(a);
    this.recentShortfall.push(this.upperVigilance - a);
    // The lowest match while an anomaly's mask lasts stands for that anomaly.
    if (i - this.lastAnomalyStep < L && this.anomalyCount > 0 && a < this.anomalyMatchLast) {
      this.anomalyMatchSum += a - this.anomalyMatchLast;
      this.anomalyMatchLast = a;
    }
    const masked = this.maskAfterNew || maskAfterAnomaly;
    const farBelowLast = a < this.lastAnomalyMatch * (maskAfterAnomaly ? 0.9 : 0.7);
    let score = 0;
    if (i > T && isNew && (!masked || farBelowLast)) {
      score = this.confidence(a, this.matchEnergy);
      this.anomalyMatchSum += a;
      this.anomalyCount++;
      this.anomalyMatchLast = a;
      this.lastAnomalyMatch = a;
      this.lastAnomalyStep = i;
    }
    this.maskAfterNew = isNew || this.maskAfterNew;
    if (i > T && (updateAfterAnomaly || updateForTrend)) this.adaptVigilance(i);
    return score;
  }

  private adaptVigilance(i: number): void {
    const T = this.opts.warmupSteps;
    let worst = Number.POSITIVE_INFINITY;
    for (let k = 0; k < this.recentMatch.length; k++) worst = Math.min(worst, this.recentMatch.at(k));
    // Step i is the i-th match (the warm-up replay matched steps 1..T once each): the running mean.
    const upper = Math.min(UPPER_VIGILANCE_CAP, this.matchSum / i);
    const prev = this.lowerVigilance;
    let lower: number;
    if (prev <= worst) lower = prev + (worst - prev) * LOWER_VIGILANCE_RISE;
    else {
      let fall = 0;
      if (i > 2 * T) {
        let sum = 0;
        let count = 0;
        for (let k = 0; k < this.recentShortfall.length; k++) {
          const s = this.recentShortfall.at(k);
          if (s > SHORTFALL_FLOOR) {
            sum += Math.min(SHORTFALL_CAP, s);
            count++;
          }
        }
        if (count > 0) fall = sum / count;
      }
      lower = prev - Math.max(MIN_FALL, fall) / 2;
      if (this.anomalyCount > 0) lower = Math.max(this.anomalyMatchSum / this.anomalyCount, lower);
    }
    this.lowerVigilance = Math.min(upper, lower);
    this.upperVigilance = upper;
    this.lastVigilanceStep = i;
    this.maskAfterNew = true;
  }

  /** How far the best match fell short of both vigilances, plus how badly the newest value matched. */
  private confidence(match: number, energy: number): number {
    const m = Math.min(0.999, match);
    const upper = (1 - m - (1 - this.upperVigilance)) / (1 - m);
    const lower = (1 - m - (1 - this.lowerVigilance)) / (1 - m);
    return Math.max(0, Math.min(1, 0.35 * upper + 0.65 * lower + 1.5 * (1 - energy)));
  }

  snapshot(): unknown {
    const d = this.dim;
    const num = (x: number): number | null => (Number.isFinite(x) ? x : null);
    return {
      block: [this.blockSum, num(this.blockMin), num(this.blockMax), this.blockN],
      movingMean: this.movingMean,
      steps: this.steps,
      raw: [num(this.rawMin), num(this.rawMax)],
      grid: [num(this.gridMin), num(this.gridMax)],
      median: this.median.values(),
      recent: Array.from(this.recent.subarray(this.opts.windowSteps - this.filled())),
      cats: f64ToBase64(this.cats.subarray(0, this.nCats * 2 * d)),
      catUsed: Array.from(this.catUsed.subarray(0, this.nCats)),
      vigilance: [this.lowerVigilance, this.upperVigilance],
      warm:
        this.warm === null
          ? null
          : f64ToBase64(this.warm.subarray(0, Math.min(this.steps, this.opts.warmupSteps) * d)),
      matchSum: this.matchSum,
      recentMatch: this.recentMatch.toArray(),
      recentShortfall: this.recentShortfall.toArray(),
      anomalies: [
        this.anomalyMatchSum,
        this.anomalyCount,
        this.anomalyMatchLast,
        this.lastAnomalyMatch,
        num(this.lastAnomalyStep),
      ],
      lastVigilanceStep: this.lastVigilanceStep,
      maskAfterNew: this.maskAfterNew,
      sinceNew: this.sinceNew,
    };
  }

  restore(state: unknown): void {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) throw new Error("resonance: bad state");
    const s = parsed.data;
    const d = this.dim;
    const w = this.opts.windowSteps;
    const cats = base64ToF64(s.cats);
    const nCats = cats.length / (2 * d);
    const warmed = s.steps >= this.opts.warmupSteps;
    const warm = s.warm === null ? null : base64ToF64(s.warm);
    if (
      !Number.isInteger(nCats) ||
      nCats > this.opts.maxCategories ||
      s.catUsed.length !== nCats ||
      s.recent.length !== Math.min(s.steps, w) ||
      s.median.length > this.opts.medianSteps ||
      s.block[3] >= this.opts.stepPoints ||
      (warm === null) !== warmed ||
      (warm !== null && warm.length !== s.steps * d) ||
      s.recentMatch.length > this.recentMatch.capacity ||
      s.recentShortfall.length > this.recentShortfall.capacity
    )
      throw new Error("resonance: bad state");
    const orInf = (x: number | null, inf: number): number => (x === null ? inf : x);
    this.blockSum = s.block[0];
    this.blockMin = orInf(s.block[1], Number.POSITIVE_INFINITY);
    this.blockMax = orInf(s.block[2], Number.NEGATIVE_INFINITY);
    this.blockN = s.block[3];
    this.movingMean = s.movingMean;
    this.steps = s.steps;
    this.rawMin = orInf(s.raw[0], Number.POSITIVE_INFINITY);
    this.rawMax = orInf(s.raw[1], Number.NEGATIVE_INFINITY);
    this.gridMin = orInf(s.grid[0], Number.NaN);
    this.gridMax = orInf(s.grid[1], Number.NaN);
    this.median.load(s.median);
    this.recent.fill(0);
    this.recent.set(s.recent, w - s.recent.length);
    this.cats = new Float64Array(Math.max(nCats, 16) * 2 * d);
    this.cats.set(cats);
    this.catUsed = new Float64Array(Math.max(nCats, 16));
    this.catUsed.set(s.catUsed);
    this.catSize = new Float64Array(Math.max(nCats, 16));
    this.nCats = nCats;
    for (let c = 0; c < nCats; c++) this.resize(c);
    this.lowerVigilance = s.vigilance[0];
    this.upperVigilance = s.vigilance[1];
    if (warm === null) this.warm = null;
    else {
      this.warm = new Float64Array(this.opts.warmupSteps * d);
      this.warm.set(warm);
    }
    this.matchSum = s.matchSum;
    this.recentMatch.load(s.recentMatch);
    this.recentShortfall.load(s.recentShortfall);
    this.anomalyMatchSum = s.anomalies[0];
    this.anomalyCount = s.anomalies[1];
    this.anomalyMatchLast = s.anomalies[2];
    this.lastAnomalyMatch = s.anomalies[3];
    this.lastAnomalyStep = orInf(s.anomalies[4], Number.NEGATIVE_INFINITY);
    this.lastVigilanceStep = s.lastVigilanceStep;
    this.maskAfterNew = s.maskAfterNew;
    this.sinceNew = s.sinceNew;
  }
}

const finite = z.number().finite();
const count = z.number().int().nonnegative();
const stateSchema = z.object({
  block: z.tuple([finite, finite.nullable(), finite.nullable(), count]),
  movingMean: finite,
  steps: count,
  raw: z.tuple([finite.nullable(), finite.nullable()]),
  grid: z.tuple([finite.nullable(), finite.nullable()]),
  median: z.array(finite),
  recent: z.array(finite),
  cats: z.string(),
  catUsed: z.array(finite),
  vigilance: z.tuple([finite, finite]),
  warm: z.string().nullable(),
  matchSum: finite,
  recentMatch: z.array(finite),
  recentShortfall: z.array(finite),
  anomalies: z.tuple([finite, count, finite, finite, finite.nullable()]),
  lastVigilanceStep: count,
  maskAfterNew: z.boolean(),
  sinceNew: count,
});

function f64ToBase64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

function base64ToF64(s: string): Float64Array {
  const bytes = Buffer.from(s, "base64");
  if (bytes.byteLength % 8 !== 0) throw new Error("resonance: bad state");
  const out = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(out.buffer).set(bytes);
  for (const x of out) if (!Number.isFinite(x)) throw new Error("resonance: bad state");
  return out;
}

/** Min-max scales in place to [0, 1] (a constant vector becomes all 0). */
function scale01(x: Float64Array): void {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const r = hi - lo;
  for (let k = 0; k < x.length; k++) x[k] = r !== 0 ? ((x[k] as number) - lo) / r : (x[k] as number) - lo;
}

/**
 * Full orthonormal Haar decomposition in place (length a power of two): approximation first, then the
 * details from the coarsest to the finest level.
 */
function haar(x: Float64Array, tmp: Float64Array): void {
  for (let n = x.length; n > 1; n >>= 1) {
    const h = n >> 1;
    for (let i = 0; i < h; i++) {
      const a = x[2 * i] as number;
      const b = x[2 * i + 1] as number;
      tmp[i] = (a + b) / Math.SQRT2;
      tmp[h + i] = (a - b) / Math.SQRT2;
    }
    for (let i = 0; i < n; i++) x[i] = tmp[i] as number;
  }
}

/** Cosine similarity; against a zero vector, 1 minus the other's norm. */
function cosine(a: Float64Array, b: Float64Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k] as number;
    const y = b[k] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  const na = Math.sqrt(aa);
  const nb = Math.sqrt(bb);
  if (na === 0) return 1 - nb;
  if (nb === 0) return 1 - na;
  return ab / (na * nb);
}
