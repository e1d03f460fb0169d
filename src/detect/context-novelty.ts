import type { Component, ComponentOutput } from "./types.js";

export interface ContextOptions {
  /** Quantisation resolutions: the value range is cut into this many levels at each resolution. */
  levels: number[];
  /** Longest context (previous samples) whose transition to the current level is checked. */
  maxOrder: number;
  /** log2 of the bits in the hashed transition memory (bounded state: 2^bits / 8 bytes). */
  tableBits: number;
  /** Samples whose running min/max set the quantisation grid before the first score. */
  warmupPoints: number;
  /**
   * The grid (min/max) is re-spread when a value falls outside it by more than this fraction of its
   * range; the memory then starts over, because every level changed meaning.
   */
  regridSlack: number;
  /** surprise = -noveltyScale * ln(1 - novelty): novelty 1 (nothing familiar followed) is a strong surprise. */
  noveltyScale: number;
  /** Weight of a context never seen before (a new sequence), relative to a seen context with a new successor. */
  unseenContextWeight: number;
  /** Also quantise the step from the previous sample at these resolutions (empty: levels only). */
  deltaLevels: number[];
}

export const CONTEXT_DEFAULTS: ContextOptions = {
  levels: [4, 8, 16, 32],
  maxOrder: 6,
  tableBits: 20,
  warmupPoints: 150,
  regridSlack: 0.25,
  noveltyScale: 5,
  unseenContextWeight: 0.3,
  deltaLevels: [],
};

/** Novelty is capped just below 1 so that the surprise stays finite. */
const MAX_NOVELTY = 1 - 1e-6;

/** Golden-ratio multiplier for hashing (Knuth). */
const HASH_MUL = 0x9e3779b1;

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, HASH_MUL);
  return h ^ (h >>> 15);
}

/**
 * Contextual novelty, after the idea of CAD OSE (contextual anomaly detection): values are quantised
 * into levels on a grid spread by the running min/max (learned online, never the file's), at several
 * resolutions; for each resolution and each context length k = 1..maxOrder the detector asks "has the
 * level sequence of the last k samples ever been followed by this level?". Novelty is the fraction of
 * (resolution, k) contexts that were seen before but never followed by what happened now, so coarse
 * resolutions give partial credit to a near-miss. Transitions live in a fixed-size hashed bit table:
 * memory is bounded, and a collision can only make a transition look familiar (fewer false alarms).
 */
export class ContextNovelty implements Component {
  readonly name = "context";
  private table: Uint32Array;
  private readonly mask: number;
  private hist: Int32Array; // last maxOrder levels per resolution, newest first
  private histLen = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private gridMin = 0;
  private gridMax = 0;
  private seen = 0;
  private prev = Number.NaN;
  /** Samples since the grid was (re)spread: the first contexts are all new, which is not news. */
  private sinceGrid = 0;
  private readonly cur: Int32Array;

  constructor(readonly opts: ContextOptions = CONTEXT_DEFAULTS) {
    this.table = new Uint32Array(1 << Math.max(0, opts.tableBits - 5));
    this.mask = (1 << opts.tableBits) - 1;
    const streams = opts.levels.length + opts.deltaLevels.length;
    this.hist = new Int32Array(streams * opts.maxOrder);
    this.cur = new Int32Array(streams);
  }

  private test(h: number): boolean {
    const i = h & this.mask;
    return ((this.table[i >>> 5] as number) & (1 << (i & 31))) !== 0;
  }

  private set(h: number): void {
    const i = h & this.mask;
    this.table[i >>> 5] = (this.table[i >>> 5] as number) | (1 << (i & 31));
  }

  private regrid(): void {
    const span = this.max - this.min;
    this.gridMin = this.min;
    this.gridMax = span > 0 ? this.max : this.min + Math.max(Math.abs(this.min) * 1e-3, 1e-9);
    this.table.fill(0);
    this.histLen = 0;
    this.sinceGrid = 0;
  }

  step(_t: number, v: number): ComponentOutput {
    this.seen++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (this.seen === this.opts.warmupPoints) this.regrid();
    if (this.seen < this.opts.warmupPoints) return { surprise: Number.NaN, expected: null };
    const range = this.gridMax - this.gridMin;
    const slack = this.opts.regridSlack * range;
    let regridded = false;
    if (v > this.gridMax + slack || v < this.gridMin - slack) {
      // Score against the old grid first (the excursion is the news), then re-spread.
      regridded = true;
    }
    const levels = this.opts.levels;
    const deltas = this.opts.deltaLevels;
    const K = this.opts.maxOrder;
    const R = levels.length + deltas.length;
    const u = (v - this.gridMin) / range;
    for (let r = 0; r < levels.length; r++) {
      // Outside the grid a value gets its own levels, below 0 or from L up: a new extreme is news
      // (clamping values within the re-spread slack to the edge levels scored lower on NAB, 68 -> 65). The
      // nested grids share boundaries; offsetting them (so a value near one boundary moves only some
      // resolutions) also scored lower (68 -> 65).
      this.cur[r] = Math.floor(u * (levels[r] as number));
    }
    const du = Number.isNaN(this.prev) ? 0 : (v - this.prev) / range;
    for (let r = 0; r < deltas.length; r++)
      this.cur[levels.length + r] = Math.round(du * (deltas[r] as number));
    this.prev = v;
    let contexts = 0;
    let novel = 0;
    const depth = Math.min(K, this.histLen);
    for (let r = 0; r < R; r++) {
      const q = this.cur[r] as number;
      let h = mix(0x12345 + r, 0);
      for (let k = 1; k <= depth; k++) {
        h = mix(h, this.hist[r * K + k - 1] as number);
        const ctx = mix(h, 0x7fffffff);
        const tr = mix(h, q);
        if (this.test(ctx)) {
          contexts++;
          if (!this.test(tr)) novel++;
        } else {
          contexts += this.opts.unseenContextWeight;
          novel += this.opts.unseenContextWeight;
        }
        this.set(ctx);
        this.set(tr);
      }
    }
    // shift history
    for (let r = 0; r < R; r++) {
      const base = r * K;
      for (let k = K - 1; k > 0; k--) this.hist[base + k] = this.hist[base + k - 1] as number;
      this.hist[base] = this.cur[r] as number;
    }
    if (this.histLen < K) this.histLen++;
    this.sinceGrid++;
    const n = contexts > 0 && this.sinceGrid > K + 1 ? Math.min(novel / contexts, MAX_NOVELTY) : 0;
    if (regridded) this.regrid();
    return { surprise: n > 0 ? -this.opts.noveltyScale * Math.log(1 - n) : 0, expected: null };
  }

  snapshot(): unknown {
    return {
      table: Buffer.from(this.table.buffer, this.table.byteOffset, this.table.byteLength).toString("base64"),
      hist: Array.from(this.hist),
      histLen: this.histLen,
      min: Number.isFinite(this.min) ? this.min : null,
      max: Number.isFinite(this.max) ? this.max : null,
      gridMin: this.gridMin,
      gridMax: this.gridMax,
      seen: this.seen,
      prev: Number.isFinite(this.prev) ? this.prev : null,
      sinceGrid: this.sinceGrid,
    };
  }

  restore(state: unknown): void {
    const s = state as Record<string, unknown>;
    if (typeof s?.table !== "string" || !Array.isArray(s.hist) || s.hist.length !== this.hist.length)
      throw new Error("context: bad state");
    const bytes = Buffer.from(s.table, "base64");
    if (bytes.byteLength !== this.table.byteLength) throw new Error("context: bad state");
    this.table = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    this.hist.set(s.hist as number[]);
    const num = (x: unknown, d: number): number => (typeof x === "number" ? x : d);
    this.histLen = num(s.histLen, 0);
    this.min = num(s.min, Number.POSITIVE_INFINITY);
    this.max = num(s.max, Number.NEGATIVE_INFINITY);
    this.gridMin = num(s.gridMin, 0);
    this.gridMax = num(s.gridMax, 0);
    this.seen = num(s.seen, 0);
    this.prev = num(s.prev, Number.NaN);
    this.sinceGrid = num(s.sinceGrid, 0);
  }
}
