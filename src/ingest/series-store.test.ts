import { describe, expect, it } from "vitest";
import { SeriesStore } from "./series-store.js";
import { LinearTrendForecaster, predictCrossing } from "./forecast.js";

describe("SeriesStore", () => {
  it("keeps the most recent samples in order and ignores out-of-order ones", () => {
    const store = new SeriesStore({ samplesPerSeries: 4 });
    const s = store.upsert({ __name__: "x" });
    if (!s) throw new Error("no series");
    for (let i = 1; i <= 6; i++) s.push(i * 1000, i * 10);
    expect(s.push(5500, 0)).toBe(false);
    const w = s.window();
    expect([...w.times]).toEqual([3000, 4000, 5000, 6000]);
    expect([...w.values]).toEqual([30, 40, 50, 60]);
    expect(s.last()).toEqual({ t: 6000, v: 60 });
  });

  it("grows a ring up to its capacity, then keeps the newest samples", () => {
    const s = new SeriesStore({ samplesPerSeries: 20 }).upsert({ __name__: "g" });
    if (!s) throw new Error("no series");
    for (let i = 1; i <= 5; i++) s.push(i, i);
    expect(s.slots).toBe(8);
    for (let i = 6; i <= 30; i++) s.push(i, i);
    expect(s.slots).toBe(20);
    expect([...s.window().values]).toEqual(Array.from({ length: 20 }, (_, k) => k + 11));
  });

  it("bounds the series count and ends stale series", () => {
    const ended: string[] = [];
    const store = new SeriesStore({
      maxSeries: 2,
      samplesPerSeries: 4,
      staleAfterMs: 10_000,
      onEnd: (s) => ended.push(s.labels["n"] ?? ""),
    });
    const a = store.upsert({ n: "a" });
    const b = store.upsert({ n: "b" });
    expect(store.upsert({ n: "c" })).toBeUndefined();
    expect(store.dropped).toBe(1);
    expect(store.upsert({ n: "a" })).toBe(a);
    a?.push(1_000, 1);
    b?.push(9_000, 1);
    expect(store.sweep(12_000)).toBe(1);
    expect(ended).toEqual(["a"]);
    expect(a?.ended).toBe(true);
    expect(store.size).toBe(1);
    expect(store.memoryBoundBytes).toBe(2 * (16 * 4 + 400));
  });
});

describe("linear-trend prediction", () => {
  const f = new LinearTrendForecaster(3);
  const times = [0, 60_000, 120_000, 180_000, 240_000];
  it("finds when a rising series crosses the threshold", () => {
    // 50 + 1 per minute: crosses 90 at minute 40.
    const values = times.map((t) => 50 + t / 60_000);
    const at = predictCrossing(f, times, values, { threshold: 90, direction: "above" }, 240_000, 3_600_000);
    expect(at).toBeDefined();
    expect(Math.abs((at as number) - 40 * 60_000)).toBeLessThan(1000);
  });
  it("says nothing for a flat series, or a crossing beyond the horizon, and now when already past", () => {
    expect(
      predictCrossing(
        f,
        times,
        times.map(() => 50),
        { threshold: 90, direction: "above" },
        240_000,
        3_600_000,
      ),
    ).toBeUndefined();
    const slow = times.map((t) => 50 + t / 600_000);
    expect(
      predictCrossing(f, times, slow, { threshold: 90, direction: "above" }, 240_000, 3_600_000),
    ).toBeUndefined();
    const falling = times.map((t) => 20 - t / 60_000);
    expect(
      predictCrossing(f, times, falling, { threshold: 18, direction: "below" }, 240_000, 3_600_000),
    ).toBe(240_000);
  });
});
