/** Small numeric building blocks shared by the detectors: ring buffers, a sorted window, RNG, tails. */

/** Fixed-capacity FIFO of numbers; memory is allocated once. */
export class Ring {
  readonly buf: Float64Array;
  private head = 0; // index of the oldest element
  private n = 0;

  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  get length(): number {
    return this.n;
  }

  /** Appends; returns the evicted value when full, else undefined. */
  push(x: number): number | undefined {
    if (this.n < this.capacity) {
      this.buf[(this.head + this.n) % this.capacity] = x;
      this.n++;
      return undefined;
    }
    const old = this.buf[this.head] as number;
    this.buf[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    return old;
  }

  /** i = 0 is the oldest element. */
  at(i: number): number {
    // i < capacity, so one subtraction wraps it (cheaper than %, which this hot path felt).
    const k = this.head + i;
    return this.buf[k >= this.capacity ? k - this.capacity : k] as number;
  }

  /** The newest element, or NaN when empty. */
  last(): number {
    return this.n === 0 ? Number.NaN : this.at(this.n - 1);
  }

  /** Copies elements [from, from + out.length) (0 = oldest) into out with at most two block copies. */
  copyTo(from: number, out: Float64Array): void {
    const start = (this.head + from) % this.capacity;
    const first = Math.min(out.length, this.capacity - start);
    out.set(this.buf.subarray(start, start + first), 0);
    if (first < out.length) out.set(this.buf.subarray(0, out.length - first), first);
  }

  toArray(): number[] {
    const out = new Array<number>(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.at(i);
    return out;
  }

  clear(): void {
    this.head = 0;
    this.n = 0;
  }

  load(values: readonly number[]): void {
    this.clear();
    const from = Math.max(0, values.length - this.capacity);
    for (let i = from; i < values.length; i++) this.push(values[i] as number);
  }
}

/** Keeps the last `capacity` values both in arrival order and sorted, for O(capacity) median/MAD. */
export class SortedWindow {
  private readonly ring: Ring;
  private readonly sorted: Float64Array;
  private n = 0;

  constructor(readonly capacity: number) {
    this.ring = new Ring(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get length(): number {
    return this.n;
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sorted[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  push(x: number): void {
    const old = this.ring.push(x);
    if (old !== undefined) {
      // Full window: remove old and insert x with one block move, of only the values between them.
      const i = this.lowerBound(old);
      const j = this.lowerBound(x);
      if (j <= i) {
        this.sorted.copyWithin(j + 1, j, i);
        this.sorted[j] = x;
      } else {
        this.sorted.copyWithin(i, i + 1, j);
        this.sorted[j - 1] = x;
      }
      return;
    }
    const j = this.lowerBound(x);
    this.sorted.copyWithin(j + 1, j, this.n);
    this.sorted[j] = x;
    this.n++;
  }

  /** Number of values <= x. */
  countBelowOrEqual(x: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sorted[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  median(): number {
    if (this.n === 0) return Number.NaN;
    const h = this.n >> 1;
    return this.n % 2 === 1
      ? (this.sorted[h] as number)
      : ((this.sorted[h - 1] as number) + (this.sorted[h] as number)) / 2;
  }

  /** Median absolute deviation around `m`: walks outwards from m through the sorted values. */
  mad(m: number): number {
    const n = this.n;
    if (n === 0) return Number.NaN;
    const s = this.sorted;
    let hi = this.lowerBound(m);
    let lo = hi - 1;
    const target = (n - 1) >> 1;
    let d = 0;
    for (let k = 0; k <= target; k++) {
      const dl = lo >= 0 ? m - (s[lo] as number) : Number.POSITIVE_INFINITY;
      const dh = hi < n ? (s[hi] as number) - m : Number.POSITIVE_INFINITY;
      if (dl <= dh) {
        d = dl;
        lo--;
      } else {
        d = dh;
        hi++;
      }
    }
    return d;
  }

  quantile(q: number): number {
    if (this.n === 0) return Number.NaN;
    const i = Math.min(this.n - 1, Math.max(0, Math.round(q * (this.n - 1))));
    return this.sorted[i] as number;
  }

  values(): number[] {
    return this.ring.toArray();
  }

  load(values: readonly number[]): void {
    this.ring.clear();
    this.n = 0;
    for (const v of values.slice(-this.capacity)) this.push(v);
  }
}

/** mulberry32: tiny seeded PRNG whose whole state is one 32-bit integer (so it snapshots). */
export class Rng {
  constructor(public state: number) {}
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** -ln of the two-sided Gaussian tail probability of |z|, stable for large z. */
export function gaussianSurprise(z: number): number {
  const a = Math.abs(z);
  if (a < 5) return -Math.log(Math.max(1e-300, erfc(a / Math.SQRT2)));
  // Asymptotic: ln(2 phi(a)/a) for the two-sided tail.
  return (a * a) / 2 + Math.log(a) + 0.5 * Math.log(2 * Math.PI) - Math.log(2);
}

/** -ln(2 P(Z > z)), the one-sided surprise relative to the median: exactly 0 for z <= 0. */
export function upperTailSurprise(z: number): number {
  if (!(z > 0)) return 0;
  if (z < 5) return -Math.log(Math.max(1e-300, erfc(z / Math.SQRT2)));
  return (z * z) / 2 + Math.log(z) + 0.5 * Math.log(2 * Math.PI) - Math.log(2);
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : Number.isFinite(x) ? x : 0;
}

export const MS_PER_DAY = 86_400_000;
export const MS_PER_WEEK = 7 * MS_PER_DAY;
