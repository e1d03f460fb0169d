import { Ring, Rng, SortedWindow, gaussianSurprise } from "./stats.js";
import type { Component, ComponentOutput } from "./types.js";

export interface IForestOptions {
  /** Shingle length: each point is the vector of the last `shingle` values. */
  shingle: number;
  trees: number;
  /** Shingles drawn per tree (psi in the paper). */
  sampleSize: number;
  /** Training data: the last 24 h of samples, but never fewer than `minTrainPoints` samples... */
  trainWindowMs: number;
  minTrainPoints: number;
  /** ...and never more than this many (bounded memory). */
  maxTrainPoints: number;
  /** Samples before the first forest is built. */
  warmupPoints: number;
  /** Every this much sample time, `trees / rollingRetrains` of the oldest trees are rebuilt, so the
   *  whole forest is renewed over `rollingRetrains` intervals (32 x 1 h: one tree per hour, each
   *  grown on the last 24 h, a full renewal in about a day and a third). */
  retrainIntervalMs: number;
  /** ...and only after at least this many new samples (hourly data would otherwise retrain every sample). */
  retrainMinPoints: number;
  rollingRetrains: number;
  /** Recent forest scores kept to standardise the score per series. */
  scoreHistoryPoints: number;
  seed: number;
}

export const IFOREST_DEFAULTS: IForestOptions = {
  shingle: 6,
  trees: 32,
  sampleSize: 128,
  trainWindowMs: 86_400_000,
  minTrainPoints: 1000,
  maxTrainPoints: 4000,
  warmupPoints: 200,
  retrainIntervalMs: 3_600_000,
  retrainMinPoints: 12,
  rollingRetrains: 32,
  scoreHistoryPoints: 2000,
  seed: 0x5eed,
};

const EULER = 0.5772156649;
/** Samples between refreshes of the score median/MAD. */
const STATS_REFRESH_POINTS = 16;

/** Average path length of an unsuccessful BST search among n points (the isolation forest normaliser). */
function cFactor(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER) - (2 * (n - 1)) / n;
}

interface Tree {
  /** Heap-ordered nodes: split feature (-1 = leaf), split value, leaf size. */
  feat: Int8Array;
  split: Float64Array;
  /** Range of the split feature among the node's training rows. */
  lo: Float64Array;
  hi: Float64Array;
  size: Uint16Array;
}

/**
 * Isolation forest (Liu, Ting, Zhou 2008) over shingles of the raw values, retrained on a sliding window:
 * the oldest trees are rebuilt every `retrainIntervalMs` from the last max(24 h, 1000) samples, so the
 * model tracks the normal shape without a full rebuild per hour. The forest score 2^(-E[h]/c(psi)) is
 * standardised by the series' own recent scores (median/MAD) before it becomes a surprise.
 */
export class IsolationForest implements Component {
  readonly name = "iforest";
  private ts: Ring;
  private vs: Ring;
  private trees: Tree[] = [];
  private nextTree = 0;
  private lastTrainT = Number.NEGATIVE_INFINITY;
  private rng: Rng;
  private scores: SortedWindow;
  private readonly depth: number;
  private readonly nodes: number;
  private readonly cPsi: number;
  private readonly q: Float64Array;
  private readonly qw: Float64Array;
  /** Feature count: the shingle plus two derived features. */
  private readonly nf: number;
  private readonly cTable: Float64Array;
  /** Reused copy of the training window (no allocation per retrain). */
  private readonly trainBuf: Float64Array;
  private med = Number.NaN;
  private scale = 1;
  private sinceStats = 0;
  private sinceTrain = 0;

  constructor(readonly opts: IForestOptions = IFOREST_DEFAULTS) {
    this.ts = new Ring(opts.maxTrainPoints);
    this.vs = new Ring(opts.maxTrainPoints);
    this.rng = new Rng(opts.seed);
    this.scores = new SortedWindow(opts.scoreHistoryPoints);
    this.depth = Math.ceil(Math.log2(opts.sampleSize));
    this.nodes = 2 ** (this.depth + 1) - 1;
    this.cPsi = cFactor(opts.sampleSize);
    this.trainBuf = new Float64Array(opts.maxTrainPoints);
    this.nf = opts.shingle + 2;
    this.q = new Float64Array(this.nf);
    this.qw = new Float64Array(opts.shingle);
    this.cTable = Float64Array.from({ length: opts.sampleSize + 1 }, (_, i) => cFactor(i));
  }

  /** Start index in the ring of the training window for time t (timestamps ascend: binary search). */
  private trainFrom(t: number): number {
    const n = this.vs.length;
    let lo = 0;
    let hi = n;
    const since = t - this.opts.trainWindowMs;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts.at(mid) < since) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, Math.min(lo, n - this.opts.minTrainPoints));
  }

  /** `win` holds the training window's values in order. */
  private buildTree(win: Float64Array): Tree {
    const d = this.opts.shingle;
    const first = d - 1; // first index whose shingle lies fully inside the window
    const count = win.length - first;
    const psi = Math.min(this.opts.sampleSize, count);
    const nf = this.nf;
    const data = new Float64Array(psi * nf);
    for (let r = 0; r < psi; r++) {
      const end = first + this.rng.int(count);
      this.featurise(win, end, data, r * nf);
    }
    const tree: Tree = {
      feat: new Int8Array(this.nodes).fill(-1),
      split: new Float64Array(this.nodes),
      lo: new Float64Array(this.nodes),
      hi: new Float64Array(this.nodes),
      size: new Uint16Array(this.nodes),
    };
    const idx = new Uint32Array(psi);
    for (let i = 0; i < psi; i++) idx[i] = i;
    this.grow(tree, data, idx, 0, psi, 0, 0);
    return tree;
  }

  private grow(
    tree: Tree,
    data: Float64Array,
    idx: Uint32Array,
    lo: number,
    hi: number,
    node: number,
    level: number,
  ): void {
    const d = this.nf;
    const count = hi - lo;
    if (level >= this.depth || count <= 1) {
      tree.size[node] = count;
      return;
    }
    // Pick a feature with spread; a few tries, then give up (all rows identical).
    for (let attempt = 0; attempt < d; attempt++) {
      const f = this.rng.int(d);
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (let i = lo; i < hi; i++) {
        const x = data[(idx[i] as number) * d + f] as number;
        if (x < min) min = x;
        if (x > max) max = x;
      }
      if (!(max > min)) continue;
      const split = min + this.rng.next() * (max - min);
      let mid = lo;
      for (let i = lo; i < hi; i++) {
        if ((data[(idx[i] as number) * d + f] as number) < split) {
          const tmp = idx[mid] as number;
          idx[mid] = idx[i] as number;
          idx[i] = tmp;
          mid++;
        }
      }
      tree.feat[node] = f;
      tree.split[node] = split;
      tree.lo[node] = min;
      tree.hi[node] = max;
      this.grow(tree, data, idx, lo, mid, 2 * node + 1, level + 1);
      this.grow(tree, data, idx, mid, hi, 2 * node + 2, level + 1);
      return;
    }
    tree.size[node] = count;
  }

  /**
   * Features of the shingle ending at win[end]: the `shingle` values, plus the last step and the last
   * value's deviation from the shingle mean, so that a single odd sample moves three features, not one.
   */
  private featurise(win: ArrayLike<number>, end: number, out: Float64Array, at: number): void {
    const d = this.opts.shingle;
    let sum = 0;
    for (let k = 0; k < d; k++) {
      const x = win[end - d + 1 + k] as number;
      out[at + k] = x;
      if (k < d - 1) sum += x;
    }
    const last = win[end] as number;
    out[at + d] = last - (win[end - 1] as number);
    out[at + d + 1] = last - sum / (d - 1);
  }

  private pathLength(tree: Tree, q: Float64Array): number {
    let node = 0;
    let h = 0;
    for (;;) {
      const f = tree.feat[node] as number;
      if (f < 0) return h + (this.cTable[tree.size[node] as number] as number);
      const x = q[f] as number;
      // Far outside every training row's range at this node: isolated right here. Plain isolation forests
      // send such a point down with the most extreme rows, so a value 100x out of range scores no
      // higher than the largest normal one.
      // Only clearly outside (by more than the range's own width) so that the edges stay normal.
      const lo = tree.lo[node] as number;
      const hi = tree.hi[node] as number;
      if (x < lo - (hi - lo) || x > hi + (hi - lo)) return h + 1;
      node = x < (tree.split[node] as number) ? 2 * node + 1 : 2 * node + 2;
      h++;
    }
  }

  private train(t: number): void {
    const from = this.trainFrom(t);
    if (this.vs.length - from < this.opts.shingle + 1) return;
    const win = this.trainBuf.subarray(0, this.vs.length - from);
    this.vs.copyTo(from, win);
    if (this.trees.length < this.opts.trees) {
      while (this.trees.length < this.opts.trees) this.trees.push(this.buildTree(win));
    } else {
      const k = Math.max(1, Math.ceil(this.opts.trees / this.opts.rollingRetrains));
      for (let i = 0; i < k; i++) {
        this.trees[this.nextTree] = this.buildTree(win);
        this.nextTree = (this.nextTree + 1) % this.opts.trees;
      }
    }
    this.lastTrainT = t;
    this.sinceTrain = 0;
  }

  step(t: number, v: number): ComponentOutput {
    let out: ComponentOutput = { surprise: Number.NaN, expected: null };
    const d = this.opts.shingle;
    const n = this.vs.length;
    if (this.trees.length > 0 && n >= d - 1) {
      const w = this.qw;
      for (let k = 0; k < d - 1; k++) w[k] = this.vs.at(n - (d - 1) + k);
      w[d - 1] = v;
      const q = this.q;
      this.featurise(w, d - 1, q, 0);
      let h = 0;
      for (const tree of this.trees) h += this.pathLength(tree, q);
      const s = 2 ** (-(h / this.trees.length) / this.cPsi);
      if (this.scores.length >= 30) {
        // The score distribution moves slowly; its median/MAD are refreshed every few samples.
        if (this.sinceStats++ >= STATS_REFRESH_POINTS || Number.isNaN(this.med)) {
          this.med = this.scores.median();
          this.scale = Math.max(1.4826 * this.scores.mad(this.med), 1e-3);
          this.sinceStats = 0;
        }
        const m = this.med;
        const scale = this.scale;
        // One-sided: only "easier to isolate than usual" is anomalous.
        out = { surprise: s > m ? gaussianSurprise((s - m) / scale) : 0, expected: null };
      }
      this.scores.push(s);
    }
    this.ts.push(t);
    this.vs.push(v);
    if (this.vs.length >= this.opts.warmupPoints && t - this.lastTrainT >= this.opts.retrainIntervalMs)
      this.train(t);
    return out;
  }

  snapshot(): unknown {
    return {
      t: this.ts.toArray(),
      v: this.vs.toArray(),
      trees: this.trees.map((tr) => ({
        feat: Array.from(tr.feat),
        split: Array.from(tr.split),
        lo: Array.from(tr.lo),
        hi: Array.from(tr.hi),
        size: Array.from(tr.size),
      })),
      nextTree: this.nextTree,
      med: Number.isFinite(this.med) ? this.med : null,
      scale: this.scale,
      sinceStats: this.sinceStats,
      sinceTrain: this.sinceTrain,
      lastTrainT: Number.isFinite(this.lastTrainT) ? this.lastTrainT : null,
      rng: this.rng.state,
      scores: this.scores.values(),
    };
  }

  restore(state: unknown): void {
    const s = state as Record<string, unknown>;
    const nums = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === "number");
    if (!nums(s?.t) || !nums(s.v) || !nums(s.scores) || !Array.isArray(s.trees) || typeof s.rng !== "number")
      throw new Error("iforest: bad state");
    const trees: Tree[] = (s.trees as unknown[]).map((x) => {
      const tr = x as Record<string, unknown>;
      if (
        !nums(tr?.feat) ||
        !nums(tr.split) ||
        !nums(tr.lo) ||
        !nums(tr.hi) ||
        !nums(tr.size) ||
        tr.feat.length !== this.nodes
      )
        throw new Error("iforest: bad tree");
      return {
        feat: Int8Array.from(tr.feat),
        split: Float64Array.from(tr.split),
        lo: Float64Array.from(tr.lo),
        hi: Float64Array.from(tr.hi),
        size: Uint16Array.from(tr.size),
      };
    });
    this.ts.load(s.t);
    this.vs.load(s.v);
    this.trees = trees;
    this.nextTree = typeof s.nextTree === "number" ? s.nextTree : 0;
    this.med = typeof s.med === "number" ? s.med : Number.NaN;
    this.scale = typeof s.scale === "number" ? s.scale : 1;
    this.sinceStats = typeof s.sinceStats === "number" ? s.sinceStats : 0;
    this.sinceTrain = typeof s.sinceTrain === "number" ? s.sinceTrain : 0;
    this.lastTrainT = typeof s.lastTrainT === "number" ? s.lastTrainT : Number.NEGATIVE_INFINITY;
    this.rng = new Rng(s.rng);
    this.scores.load(s.scores);
  }
}
