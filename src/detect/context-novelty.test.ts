import { describe, expect, it } from "vitest";
import { CONTEXT_DEFAULTS, ContextNovelty } from "./context-novelty.js";
import { Rng } from "./stats.js";

const STEP_MS = 60_000;

/** A repeating rhythm (low, low, high, high, mid) with a little noise; deterministic. */
function rhythm(n: number, rng: Rng): number[] {
  // The mid value keeps clear of the grid's halfway boundary, where noise alone would flip every level.
  const shape = [10, 10, 50, 50, 25];
  return Array.from({ length: n }, (_, i) => (shape[i % shape.length] as number) + rng.next());
}

describe("ContextNovelty", () => {
  it("flags a broken rhythm whose values all stay inside the learned range", () => {
    const v = rhythm(1200, new Rng(1));
    // Two early samples spread the running min/max beyond the rhythm: a new extreme would itself be news.
    v[0] = 0;
    v[1] = 60;
    // Same values, wrong order: high straight after high after high, then low-low-low.
    const broken = [50, 50, 50, 50, 10, 10, 10, 10];
    v.splice(1100, broken.length, ...broken);
    const m = new ContextNovelty(CONTEXT_DEFAULTS);
    const s = v.map((x, i) => m.step(i * STEP_MS, x).surprise);
    const normal = Math.max(...s.slice(900, 1100));
    const atBreak = Math.max(...s.slice(1100, 1100 + broken.length));
    expect(normal).toBe(0);
    expect(atBreak).toBeGreaterThan(1);
  });

  it("scores a value outside the running min/max as new, then keeps bounded state", () => {
    const rng = new Rng(2);
    const m = new ContextNovelty(CONTEXT_DEFAULTS);
    for (let i = 0; i < 2000; i++) m.step(i * STEP_MS, 100 + 10 * rng.next());
    const size = JSON.stringify(m.snapshot()).length;
    expect(m.step(2000 * STEP_MS, 400).surprise).toBeGreaterThan(1);
    for (let i = 2001; i < 6000; i++) m.step(i * STEP_MS, 100 + 10 * rng.next());
    // The transition memory is a fixed-size table: the snapshot does not grow with the series.
    expect(Math.abs(JSON.stringify(m.snapshot()).length - size)).toBeLessThan(100);
  });

  it("restores a snapshot that continues exactly like the original and rejects garbage", () => {
    const v = rhythm(800, new Rng(3));
    const a = new ContextNovelty(CONTEXT_DEFAULTS);
    for (let i = 0; i < 500; i++) a.step(i * STEP_MS, v[i] as number);
    const b = new ContextNovelty(CONTEXT_DEFAULTS);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    for (let i = 500; i < 800; i++)
      expect(b.step(i * STEP_MS, v[i] as number)).toEqual(a.step(i * STEP_MS, v[i] as number));
    expect(() => b.restore({ table: 5 })).toThrow();
    expect(() => b.restore({ ...(a.snapshot() as object), table: "AAAA" })).toThrow();
  });
});
