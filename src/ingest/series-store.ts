import { fingerprint, type Labels } from "../core/index.js";
import {
  DEFAULT_MAX_SERIES,
  DEFAULT_SAMPLES_PER_SERIES,
  DEFAULT_SERIES_STALE_AFTER_MS,
} from "./telemetry-config.js";

/** Bytes a series' ring costs (two Float64 arrays) plus a rough allowance for its labels and map entry. */
export const SERIES_OVERHEAD_BYTES = 400;

/** Samples a ring starts with; it doubles when full up to its capacity, so short-lived series stay small. */
export const INITIAL_RING_SAMPLES = 8;

/** One series: labels and a ring buffer of its most recent samples. */
export class Series {
  /** Interleaved (time, value) pairs: one typed array per series instead of two halves its fixed cost. */
  private buf: Float64Array;
  private head = 0;
  count = 0;
  lastT = -Infinity;
  /** Set once the series ended; holders of a reference must drop it. */
  ended = false;
  /** Free for the series' source: the scraper stores the number of the last scrape that exposed it. */
  mark = 0;
  /** Opaque per-series state of the analyzer (detector, alert state), released with the series. */
  state: unknown = undefined;

  constructor(
    readonly id: string,
    readonly labels: Labels,
    readonly capacity: number,
  ) {
    this.buf = new Float64Array(2 * Math.min(capacity, INITIAL_RING_SAMPLES));
  }

  /** Samples the ring can hold before it grows (or, at capacity, overwrites the oldest). */
  get slots(): number {
    return this.buf.length / 2;
  }

  /** Appends unless `t` is not after the last sample (out of order or duplicate); returns whether it did. */
  push(t: number, v: number): boolean {
    if (t <= this.lastT) return false;
    let slots = this.buf.length / 2;
    if (this.count === slots && slots < this.capacity) {
      // Full but allowed to grow: the ring is in order from index 0 while it has never wrapped.
      const grown = new Float64Array(2 * Math.min(this.capacity, slots * 2));
      grown.set(this.buf);
      this.buf = grown;
      this.head = slots;
      slots = grown.length / 2;
    }
    this.buf[2 * this.head] = t;
    this.buf[2 * this.head + 1] = v;
    this.head = (this.head + 1) % slots;
    if (this.count < slots) this.count++;
    this.lastT = t;
    return true;
  }

  /** The samples held, oldest first, copied (the ring keeps moving). */
  window(): { times: Float64Array; values: Float64Array } {
    const n = this.count;
    const slots = this.buf.length / 2;
    const times = new Float64Array(n);
    const values = new Float64Array(n);
    const start = (this.head - n + slots) % slots;
    for (let i = 0; i < n; i++) {
      const j = (start + i) % slots;
      times[i] = this.buf[2 * j] as number;
      values[i] = this.buf[2 * j + 1] as number;
    }
    return { times, values };
  }

  last(): { t: number; v: number } | undefined {
    if (this.count === 0) return undefined;
    const slots = this.buf.length / 2;
    const j = (this.head - 1 + slots) % slots;
    return { t: this.buf[2 * j] as number, v: this.buf[2 * j + 1] as number };
  }
}

export interface SeriesStoreOptions {
  maxSeries?: number;
  samplesPerSeries?: number;
  staleAfterMs?: number;
  /** Called when a series ends (went stale or its target stopped exposing it), before it is dropped. */
  onEnd?: (s: Series) => void;
}

/**
 * Recent samples of every series in memory, bounded: at most `maxSeries` rings of `samplesPerSeries`
 * samples, so the memory bound is maxSeries x (16 x samplesPerSeries + SERIES_OVERHEAD_BYTES).
 */
export class SeriesStore {
  private readonly series = new Map<string, Series>();
  readonly maxSeries: number;
  readonly samplesPerSeries: number;
  readonly staleAfterMs: number;
  private readonly onEnd: ((s: Series) => void) | undefined;
  /** Series refused because the store was full, since start. */
  dropped = 0;
  ended = 0;

  constructor(opts: SeriesStoreOptions = {}) {
    this.maxSeries = opts.maxSeries ?? DEFAULT_MAX_SERIES;
    this.samplesPerSeries = opts.samplesPerSeries ?? DEFAULT_SAMPLES_PER_SERIES;
    this.staleAfterMs = opts.staleAfterMs ?? DEFAULT_SERIES_STALE_AFTER_MS;
    this.onEnd = opts.onEnd;
  }

  get size(): number {
    return this.series.size;
  }

  /** Upper bound of the memory the rings may take, bytes. */
  get memoryBoundBytes(): number {
    return this.maxSeries * (16 * this.samplesPerSeries + SERIES_OVERHEAD_BYTES);
  }

  /** The series of these labels, created if there is room; undefined when the store is full. */
  upsert(labels: Labels, id: string = fingerprint(labels)): Series | undefined {
    let s = this.series.get(id);
    if (s) return s;
    if (this.series.size >= this.maxSeries) {
      this.dropped++;
      return undefined;
    }
    s = new Series(id, labels, this.samplesPerSeries);
    this.series.set(id, s);
    return s;
  }

  get(id: string): Series | undefined {
    return this.series.get(id);
  }

  /** Ends a series now (its target no longer exposes it, or the target is down). */
  end(s: Series): void {
    if (this.series.get(s.id) !== s) return;
    this.series.delete(s.id);
    s.ended = true;
    this.ended++;
    this.onEnd?.(s);
  }

  /** Ends series without a sample for `staleAfterMs`. */
  sweep(now: number): number {
    let n = 0;
    for (const s of [...this.series.values()]) {
      if (s.lastT + this.staleAfterMs <= now) {
        this.end(s);
        n++;
      }
    }
    return n;
  }

  /** Series whose labels include all of `match` (exact values). */
  select(match: Labels): Series[] {
    const keys = Object.keys(match);
    const out: Series[] = [];
    for (const s of this.series.values()) if (keys.every((k) => s.labels[k] === match[k])) out.push(s);
    return out;
  }

  all(): IterableIterator<Series> {
    return this.series.values();
  }
}
