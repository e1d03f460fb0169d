import { describe, expect, it } from "vitest";
import { dailySeries } from "../../test/support/series.js";
import { AdaptiveResonance, RESONANCE_DEFAULTS } from "./adaptive-resonance.js";
import { Rng } from "./stats.js";

function run(m: AdaptiveResonance, t: number[], v: number[]): number[] {
  return t.map((ti, i) => m.step(ti, v[i] as number).surprise);
}

/** Indexes of the samples with a score above 0. */
function alerts(s: number[]): number[] {
  return s.flatMap((x, i) => (x > 0 ? [i] : []));
}

describe("AdaptiveResonance", () => {
  it("stays silent on a noisy daily rhythm and flags a new shape made of familiar values, once", () => {
    for (const seed of [1, 2, 3]) {
      const { t, v } = dailySeries(3000, { seed });
      // 150 minutes held at the middle of the daily swing: no value is new, the shape is.
      for (let i = 2500; i < 2530; i++) v[i] = 50;
      const s = run(new AdaptiveResonance(RESONANCE_DEFAULTS), t, v);
      const hits = alerts(s);
      expect(hits).toHaveLength(1);
      expect(hits[0]).toBeGreaterThanOrEqual(2500);
      expect(hits[0]).toBeLessThan(2530);
      for (const x of s) expect(Number.isNaN(x) || (x >= 0 && x <= 1)).toBe(true);
    }
  });

  it("keeps a familiar pattern familiar after a new extreme widens its grid", () => {
    // A square wave between 0 and 10, then one spike to 30: the grid is now three times wider, and the
    // categories learned on the old grid must have moved with it.
    const n = 4000;
    const t = Array.from({ length: n }, (_, i) => i * 60_000);
    const rng = new Rng(4);
    const v = t.map((_, i) => (Math.floor(i / 20) % 2) * 10 + rng.next() * 0.2);
    v[2000] = 30;
    const s = run(new AdaptiveResonance(RESONANCE_DEFAULTS), t, v);
    // One alert, at the spike's own step: the square wave after it is recognised at once (unmoved, the
    // old categories would no longer match it and it would alert again as new).
    const hits = alerts(s);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toBeGreaterThanOrEqual(2000);
    expect(hits[0]).toBeLessThan(2010);
  });

  it("is warming up (NaN, no expectation) until its first windows are learned, then scores 0 or more", () => {
    const { t, v } = dailySeries(1300);
    const m = new AdaptiveResonance(RESONANCE_DEFAULTS);
    const out = t.map((ti, i) => m.step(ti, v[i] as number));
    const warm = RESONANCE_DEFAULTS.stepPoints * RESONANCE_DEFAULTS.warmupSteps;
    expect(out.slice(0, warm).every((o) => Number.isNaN(o.surprise) && o.expected === null)).toBe(true);
    // Once learned it expects the running median of its downsampled values: near the sine's middle.
    for (const o of out.slice(warm)) {
      expect(o.surprise).toBeGreaterThanOrEqual(0);
      expect(Math.abs((o.expected ?? Number.NaN) - 50)).toBeLessThan(10);
    }
  });

  it("keeps at most maxCategories categories, and its state stops growing", () => {
    const opts = { ...RESONANCE_DEFAULTS, maxCategories: 16, warmupSteps: 20, stepPoints: 2 };
    const m = new AdaptiveResonance(opts);
    const rng = new Rng(9);
    const sizes: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const x = m.step(i * 60_000, rng.next() * 100).surprise;
      expect(Number.isNaN(x) || (x >= 0 && x <= 1)).toBe(true);
      if (i % 5000 === 4999) sizes.push(JSON.stringify(m.snapshot()).length);
    }
    const state = m.snapshot() as { catUsed: number[] };
    expect(state.catUsed).toHaveLength(16);
    // The state does not grow once the categories are full (the median window is full too).
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(200);
  });

  it("restores a snapshot that continues exactly like the original, also mid-block and mid-warm-up", () => {
    const { t, v } = dailySeries(3000, { seed: 5 });
    for (let i = 2500; i < 2530; i++) v[i] = 50;
    for (const split of [500, 1125, 1803, 2503]) {
      const a = new AdaptiveResonance(RESONANCE_DEFAULTS);
      for (let i = 0; i < split; i++) a.step(t[i] as number, v[i] as number);
      const b = new AdaptiveResonance(RESONANCE_DEFAULTS);
      b.restore(JSON.parse(JSON.stringify(a.snapshot())));
      let fired = 0;
      for (let i = split; i < t.length; i++) {
        const r = a.step(t[i] as number, v[i] as number);
        expect(b.step(t[i] as number, v[i] as number)).toEqual(r);
        if (r.surprise > 0) fired++;
      }
      expect(fired).toBeGreaterThan(0);
    }
  });

  it("rejects malformed state and options", () => {
    const a = new AdaptiveResonance(RESONANCE_DEFAULTS);
    const { t, v } = dailySeries(1500);
    run(a, t, v);
    const good = a.snapshot() as Record<string, unknown>;
    const b = new AdaptiveResonance(RESONANCE_DEFAULTS);
    expect(() => b.restore({ ...good, cats: "AAAA" })).toThrow(/bad state/);
    expect(() => b.restore({ ...good, warm: "" })).toThrow(/bad state/);
    expect(() => b.restore({ ...good, recent: new Array<number>(9).fill(0) })).toThrow(/bad state/);
    expect(() => b.restore({ ...good, vigilance: [0.5] })).toThrow(/bad state/);
    expect(() => b.restore(null)).toThrow(/bad state/);
    expect(() => new AdaptiveResonance({ ...RESONANCE_DEFAULTS, windowSteps: 6 })).toThrow(/bad options/);
    expect(() => new AdaptiveResonance({ ...RESONANCE_DEFAULTS, stepPoints: 0 })).toThrow(/bad options/);
    expect(() => new AdaptiveResonance({ ...RESONANCE_DEFAULTS, snapToMedian: 1 })).toThrow(/bad options/);
  });
});
