import { describe, expect, it } from "vitest";
import { StuckValue, STUCK_DEFAULTS } from "./stuck-value.js";

const T0 = Date.UTC(2026, 0, 5);

/** Feeds values; returns each sample's surprise. */
function feed(m: StuckValue, values: number[]): number[] {
  return values.map((v, i) => m.step(T0 + i * 60_000, v).surprise);
}

/** runs of the given lengths, each a new value. */
function runs(lengths: number[], start = 0): number[] {
  const out: number[] = [];
  lengths.forEach((len, k) => {
    for (let i = 0; i < len; i++) out.push(start + k);
  });
  return out;
}

describe("StuckValue", () => {
  it("fires once, when a run grows past the longest run before it, with ln(runs + 1) x scale", () => {
    const m = new StuckValue();
    // 30 finished runs, the longest 12 samples, then a value that stays.
    const history = runs([...Array<number>(29).fill(3), 12]);
    const s = feed(m, [...history, ...Array<number>(40).fill(-1)]);
    const after = s.slice(history.length);
    const fired = after.flatMap((x, i) => (x > 0 ? [i] : []));
    // The 13th sample of the new run is the first longer than 12; once per run.
    expect(fired).toEqual([12]);
    expect(after[12]).toBeCloseTo(Math.log(31) * STUCK_DEFAULTS.surpriseScale, 12);
  });

  it("does not fire for a run under minRunPoints, even one longer than every run before it", () => {
    const m = new StuckValue();
    const s = feed(m, runs([...Array<number>(25).fill(2), 6, 6, 4]));
    // The 6-sample runs grow past the longest before them (2) but stay under minRunPoints (10).
    expect(Math.max(...s.filter((x) => !Number.isNaN(x)))).toBe(0);
  });

  it("stays silent (NaN, learning) until the series has had minRuns runs; a constant series never fires", () => {
    const m = new StuckValue();
    const s = feed(m, [...runs(Array<number>(10).fill(1)), ...Array<number>(500).fill(7)]);
    expect(s.every((x) => Number.isNaN(x))).toBe(true);
    const c = new StuckValue();
    expect(feed(c, Array<number>(5000).fill(3)).every((x) => Number.isNaN(x))).toBe(true);
  });

  it("a snapshot restored into a new member continues exactly like the original", () => {
    const values = runs([...Array<number>(40).fill(2), 5, 3, 30, 1, 50]);
    const a = new StuckValue();
    feed(a, values.slice(0, 85));
    const b = new StuckValue();
    b.restore(JSON.parse(JSON.stringify(a.snapshot())) as unknown);
    const rest = values.slice(85);
    expect(feed(b, rest)).toEqual(feed(a, rest));
    const fresh = new StuckValue();
    fresh.restore(JSON.parse(JSON.stringify(new StuckValue().snapshot())) as unknown);
    expect(() => new StuckValue().restore({ last: 1, run: -1, longest: 0, runs: 0, fired: false })).toThrow(
      /bad state/,
    );
    expect(() => new StuckValue().restore({ last: null, run: 5, longest: 0, runs: 0, fired: true })).toThrow(
      /bad state/,
    );
    expect(() => new StuckValue().restore({ last: "x", run: 0, longest: 0, runs: 0, fired: false })).toThrow(
      /bad state/,
    );
  });
});
