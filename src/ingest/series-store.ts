import { fingerprint, type Labels } from "../core/index.js";
import {
  DEFAULT_MAX_SERIES,
  DEFAULT_SAMPLES_PER_SERIES,
  DEFAULT_SERIES_STALE_AFTER_MS,
} from "./telemetry-config.js";

/** Bytes a series' ring costs (two Float64 arrays) plus a rough allowance for its labels and map entry. */
export const SERIES_OVERHEAD_BYTES = 400;

/** One series: labels and a ring buffer of its most recent samples. */
export class Series {
  readonly times: Float64Array;
  readonly values: Float64Array;
  private head = 0;
  count = 0;
  lastT = -Infinity;
  /** Set once the series ended; holders of a reference must drop it. */
  ended = false;
  /** Opaque per-series state of the analyzer (detector, alert state), released with the series. */
  state: unknown = undefined;

  constructor(
    readonly id: string,
    readonly labels: Labels,
    capacity: number,
  ) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.times.length;
  }

  /** Appends unless `t` is not after the last sample (out of order or duplicate); returns whether it did. */
  push(t: number, v: number): boolean {
    if (t <= this.lastT) return false;
    this.times[this.head] = t;
    this.values[this.head] = v;
    this.head = (this.head + 1) % this.times.length;
    if (this.count < this.times.length) this.count++;
    this.lastT = t;
    return true;
  }

  /** The samples held, oldest first, copied (the ring keeps moving). */
  window(): { times: Float64Array; values: Float64Array } {
    const n = this.count;
    const cap = this.times.length;
    const times = new Float64Array(n);
    const values = new Float64Array(n);
    const start = (this.head - n + cap) % cap;
    for (let i = 0; i < n; i++) {
      const j = (start + i) % cap;
      times[i] = this.times[j] as number;
      values[i] = this.values[j] as number;
    }
    return { times, values };
  }

  last(): { t: number; v: number } | undefined {
    if (this.count === 0) return undefined;
    const j = (this.head - 1 + this.times.length) % this.times.length;
    return { t: this.times[j] as number, v: this.values[j] as number };
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
