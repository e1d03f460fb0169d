import { Ring, Rng, SortedWindow, gaussianSurprise } from "./stats.js";
import type { Component, ComponentOutput } from "./types.js";

export interface LstmOptions {
  hidden: number;
  /** Samples kept for training and normalisation. */
  trainPoints: number;
  /** Retrain every this many samples once warmed up. */
  retrainEveryPoints: number;
  warmupPoints: number;
  /** Truncated-BPTT chunk length and passes over the training window per retrain. */
  bpttSteps: number;
  epochs: number;
  learningRate: number;
  /** Recent absolute errors kept for the error scale. */
  residualPoints: number;
  seed: number;
}

export const LSTM_DEFAULTS: LstmOptions = {
  hidden: 8,
  trainPoints: 256,
  retrainEveryPoints: 256,
  warmupPoints: 200,
  bpttSteps: 32,
  epochs: 1,
  learningRate: 0.01,
  residualPoints: 300,
  seed: 0x15a7,
};

const GRAD_CLIP = 1;
const ADAM_B1 = 0.9;
const ADAM_B2 = 0.999;

function sigm(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * A small LSTM sequence model, trained on the CPU in plain TypeScript: it reads the (robustly
 * normalised) series one sample at a time, carrying its hidden state, and predicts the next sample.
 * Every `retrainEveryPoints` samples it takes a few Adam steps of truncated backpropagation through time
 * over the last `trainPoints` samples, so it keeps learning the normal shape. Anomaly: the prediction
 * error in units of the recent error scale.
 */
export class LstmForecaster implements Component {
  readonly name = "lstm";
  private readonly H: number;
  private readonly I: number; // input width: x plus hidden
  /** Parameters, one flat vector: W (4H x (1+H)), b (4H), wy (H), by (1). */
  private params: Float64Array;
  private m: Float64Array;
  private vAdam: Float64Array;
  private adamT = 0;
  private h: Float64Array;
  private c: Float64Array;
  private yhat = Number.NaN;
  private mu = 0;
  private sd = 1;
  private normReady = false;
  private values: Ring;
  private since = 0;
  private resid: SortedWindow;
  private readonly z: Float64Array;

  constructor(readonly opts: LstmOptions = LSTM_DEFAULTS) {
    this.H = opts.hidden;
    this.I = 1 + opts.hidden;
    const n = 4 * this.H * this.I + 4 * this.H + this.H + 1;
    this.params = new Float64Array(n);
    const rng = new Rng(opts.seed);
    const s = 1 / Math.sqrt(this.I);
    for (let i = 0; i < 4 * this.H * this.I; i++) this.params[i] = (rng.next() * 2 - 1) * s;
    // Forget-gate bias 1: the usual initialisation so that memory is kept at first.
    for (let j = 0; j < this.H; j++) this.params[4 * this.H * this.I + this.H + j] = 1;
    for (let j = 0; j < this.H; j++)
      this.params[4 * this.H * this.I + 4 * this.H + j] = (rng.next() * 2 - 1) * s;
    this.m = new Float64Array(n);
    this.vAdam = new Float64Array(n);
    this.h = new Float64Array(this.H);
    this.c = new Float64Array(this.H);
    this.values = new Ring(opts.trainPoints);
    this.resid = new SortedWindow(opts.residualPoints);
    this.z = new Float64Array(4 * this.H);
  }

  private get bOff(): number {
    return 4 * this.H * this.I;
  }
  private get wyOff(): number {
    return this.bOff + 4 * this.H;
  }

  /** One LSTM cell step in place on (h, c); writes gate activations into `z` (i, f, o, g). */
  private cell(
    x: number,
    h: Float64Array,
    c: Float64Array,
    z: Float64Array,
    hOut: Float64Array,
    cOut: Float64Array,
  ): void {
    const H = this.H;
    const I = this.I;
    const p = this.params;
    const bOff = this.bOff;
    for (let r = 0; r < 4 * H; r++) {
      const row = r * I;
      let s = (p[bOff + r] as number) + (p[row] as number) * x;
      for (let k = 0; k < H; k++) s += (p[row + 1 + k] as number) * (h[k] as number);
      z[r] = r < 3 * H ? sigm(s) : Math.tanh(s);
    }
    for (let j = 0; j < H; j++) {
      const cj = (z[H + j] as number) * (c[j] as number) + (z[j] as number) * (z[3 * H + j] as number);
      cOut[j] = cj;
      hOut[j] = (z[2 * H + j] as number) * Math.tanh(cj);
    }
  }

  private output(h: Float64Array): number {
    const p = this.params;
    const off = this.wyOff;
    let y = p[off + this.H] as number;
    for (let j = 0; j < this.H; j++) y += (p[off + j] as number) * (h[j] as number);
    return y;
  }

  private normalise(v: number): number {
    const x = (v - this.mu) / this.sd;
    // Clipped so that one wild value cannot saturate the cell state for long.
    return x > 10 ? 10 : x < -10 ? -10 : x;
  }

  private refreshNorm(): void {
    const w = new SortedWindow(this.values.length);
    for (let i = 0; i < this.values.length; i++) w.push(this.values.at(i));
    const med = w.median();
    const mad = w.mad(med);
    const spread = w.quantile(0.95) - w.quantile(0.05);
    this.mu = med;
    this.sd = Math.max(1.4826 * mad, spread / 3.29, 1e-3 * Math.abs(med), 1e-9);
    this.normReady = true;
  }

  /** Truncated BPTT with Adam over the training window. */
  private train(): void {
    const H = this.H;
    const I = this.I;
    const K = this.opts.bpttSteps;
    const n = this.values.length;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = this.normalise(this.values.at(i));
    const hs = new Float64Array((K + 1) * H);
    const cs = new Float64Array((K + 1) * H);
    const gates = new Float64Array(K * 4 * H);
    const grad = new Float64Array(this.params.length);
    const dz = new Float64Array(4 * H);
    const dhNext = new Float64Array(H);
    const dcNext = new Float64Array(H);
    const hTmp = new Float64Array(H);
    const cTmp = new Float64Array(H);
    const zTmp = new Float64Array(4 * H);
    const p = this.params;
    const bOff = this.bOff;
    const wyOff = this.wyOff;
    for (let epoch = 0; epoch < this.opts.epochs; epoch++) {
      hs.fill(0, 0, H);
      cs.fill(0, 0, H);
      for (let start = 0; start + 1 < n; start += K) {
        const len = Math.min(K, n - 1 - start);
        for (let s = 0; s < len; s++) {
          this.cell(
            xs[start + s] as number,
            hs.subarray(s * H, s * H + H),
            cs.subarray(s * H, s * H + H),
            zTmp,
            hTmp,
            cTmp,
          );
          gates.set(zTmp, s * 4 * H);
          hs.set(hTmp, (s + 1) * H);
          cs.set(cTmp, (s + 1) * H);
        }
        grad.fill(0);
        dhNext.fill(0);
        dcNext.fill(0);
        for (let s = len - 1; s >= 0; s--) {
          const hOff = (s + 1) * H;
          let y = p[wyOff + H] as number;
          for (let j = 0; j < H; j++) y += (p[wyOff + j] as number) * (hs[hOff + j] as number);
          const dy = (2 * (y - (xs[start + s + 1] as number))) / len;
          grad[wyOff + H] = (grad[wyOff + H] as number) + dy;
          const g = s * 4 * H;
          for (let j = 0; j < H; j++) {
            grad[wyOff + j] = (grad[wyOff + j] as number) + dy * (hs[hOff + j] as number);
            const dh = dy * (p[wyOff + j] as number) + (dhNext[j] as number);
            const ig = gates[g + j] as number;
            const fg = gates[g + H + j] as number;
            const og = gates[g + 2 * H + j] as number;
            const gg = gates[g + 3 * H + j] as number;
            const tc = Math.tanh(cs[hOff + j] as number);
            const dc = dh * og * (1 - tc * tc) + (dcNext[j] as number);
            dz[j] = dc * gg * ig * (1 - ig);
            dz[H + j] = dc * (cs[s * H + j] as number) * fg * (1 - fg);
            dz[2 * H + j] = dh * tc * og * (1 - og);
            dz[3 * H + j] = dc * ig * (1 - gg * gg);
            dcNext[j] = dc * fg;
          }
          dhNext.fill(0);
          const x = xs[start + s] as number;
          for (let r = 0; r < 4 * H; r++) {
            const d = dz[r] as number;
            if (d === 0) continue;
            const row = r * I;
            grad[row] = (grad[row] as number) + d * x;
            for (let k = 0; k < H; k++) {
              grad[row + 1 + k] = (grad[row + 1 + k] as number) + d * (hs[s * H + k] as number);
              dhNext[k] = (dhNext[k] as number) + d * (p[row + 1 + k] as number);
            }
            grad[bOff + r] = (grad[bOff + r] as number) + d;
          }
        }
        this.adam(grad);
        // Carry the state into the next chunk (detached from the graph).
        hs.copyWithin(0, len * H, len * H + H);
        cs.copyWithin(0, len * H, len * H + H);
      }
    }
  }

  private adam(grad: Float64Array): void {
    let norm = 0;
    for (let i = 0; i < grad.length; i++) norm += (grad[i] as number) ** 2;
    norm = Math.sqrt(norm);
    const scale = norm > GRAD_CLIP ? GRAD_CLIP / norm : 1;
    this.adamT++;
    const lr = (this.opts.learningRate * Math.sqrt(1 - ADAM_B2 ** this.adamT)) / (1 - ADAM_B1 ** this.adamT);
    for (let i = 0; i < grad.length; i++) {
      const g = (grad[i] as number) * scale;
      const m = ADAM_B1 * (this.m[i] as number) + (1 - ADAM_B1) * g;
      const v = ADAM_B2 * (this.vAdam[i] as number) + (1 - ADAM_B2) * g * g;
      this.m[i] = m;
      this.vAdam[i] = v;
      this.params[i] = (this.params[i] as number) - (lr * m) / (Math.sqrt(v) + 1e-8);
    }
  }

  step(_t: number, v: number): ComponentOutput {
    let out: ComponentOutput = { surprise: Number.NaN, expected: null };
    if (this.normReady) {
      const x = this.normalise(v);
      if (Number.isFinite(this.yhat)) {
        const err = x - this.yhat;
        if (this.resid.length >= 30) {
          const scale = Math.max(1.4826 * this.resid.median(), 1e-3);
          out = { surprise: gaussianSurprise(err / scale), expected: this.mu + this.yhat * this.sd };
        }
        this.resid.push(Math.abs(err));
      }
      this.cell(x, this.h, this.c, this.z, this.h, this.c);
      this.yhat = this.output(this.h);
    }
    this.values.push(v);
    this.since++;
    if (
      this.values.length >= this.opts.warmupPoints &&
      (!this.normReady || this.since >= this.opts.retrainEveryPoints)
    ) {
      this.refreshNorm();
      this.train();
      this.since = 0;
    }
    return out;
  }

  snapshot(): unknown {
    return {
      params: Array.from(this.params),
      m: Array.from(this.m),
      v: Array.from(this.vAdam),
      adamT: this.adamT,
      h: Array.from(this.h),
      c: Array.from(this.c),
      yhat: Number.isFinite(this.yhat) ? this.yhat : null,
      mu: this.mu,
      sd: this.sd,
      normReady: this.normReady,
      values: this.values.toArray(),
      since: this.since,
      resid: this.resid.values(),
    };
  }

  restore(state: unknown): void {
    const s = state as Record<string, unknown>;
    const nums = (a: unknown, len?: number): a is number[] =>
      Array.isArray(a) && a.every((x) => typeof x === "number") && (len === undefined || a.length === len);
    const n = this.params.length;
    if (
      !nums(s?.params, n) ||
      !nums(s.m, n) ||
      !nums(s.v, n) ||
      !nums(s.h, this.H) ||
      !nums(s.c, this.H) ||
      !nums(s.values) ||
      !nums(s.resid)
    ) {
      throw new Error("lstm: bad state");
    }
    if (
      typeof s.mu !== "number" ||
      typeof s.sd !== "number" ||
      typeof s.adamT !== "number" ||
      typeof s.since !== "number"
    )
      throw new Error("lstm: bad state");
    this.params.set(s.params);
    this.m.set(s.m);
    this.vAdam.set(s.v);
    this.adamT = s.adamT;
    this.h.set(s.h);
    this.c.set(s.c);
    this.yhat = typeof s.yhat === "number" ? s.yhat : Number.NaN;
    this.mu = s.mu;
    this.sd = s.sd;
    this.normReady = s.normReady === true;
    this.values.load(s.values);
    this.since = s.since;
    this.resid.load(s.resid);
  }
}
