import { describe, expect, it } from "vitest";
import {
  forecastThresholdCrossing,
  predictCrossing,
  SeasonalForecaster,
  SEASONAL_DEFAULTS,
} from "./index.js";

const FIVE_MIN = 300_000;
const T0 = Date.UTC(2026, 0, 5);

describe("seasonal forecaster and threshold crossing", () => {
  it("learns a daily cycle: its forecast a few hours ahead is close to the true curve", () => {
    const f = new SeasonalForecaster(SEASONAL_DEFAULTS);
    const truth = (t: number) => 100 + 30 * Math.sin((2 * Math.PI * t) / 86_400_000);
    let t = T0;
    for (let i = 0; i < 3 * 288; i++, t += FIVE_MIN) f.step(t, truth(t));
    for (const ahead of [1, 3, 6]) {
      const at = t + ahead * 3_600_000;
      const fc = f.forecast(at);
      expect(fc).not.toBeNull();
      expect(Math.abs(fc!.mean - truth(at))).toBeLessThan(1);
    }
  });

  it("predicts when a rising series will cross a threshold", () => {
    // Disk usage rising 1 unit per hour from 50, small daily wiggle: crosses 60 ten hours after the end.
    const t: number[] = [];
    const v: number[] = [];
    for (let i = 0; i < 2 * 288; i++) {
      const ti = T0 + i * FIVE_MIN;
      t.push(ti);
      v.push(50 - 48 + (i * 5) / 60 + 0.2 * Math.sin((2 * Math.PI * ti) / 86_400_000));
    }
    const last = v[v.length - 1]!;
    const r = forecastThresholdCrossing(t, v, last + 10, { horizonMs: 24 * 3_600_000 });
    expect(r).not.toBeNull();
    expect(r!.direction).toBe("above");
    expect(r!.inMinutes).not.toBeNull();
    expect(Math.abs(r!.inMinutes! - 600)).toBeLessThan(60);
    expect(r!.earliestAt!).toBeLessThanOrEqual(r!.crossesAt!);
    expect(r!.message).toMatch(/will cross above .* in about \d+ minutes/);
    // A threshold far away is not crossed within the horizon.
    const far = forecastThresholdCrossing(t, v, last + 1000, { horizonMs: 6 * 3_600_000 });
    expect(far!.crossesAt).toBeNull();
    expect(far!.message).toMatch(/not forecast to cross/);
  });

  it("returns null before the model has enough data, and for bad thresholds", () => {
    expect(forecastThresholdCrossing([T0], [1], 5)).toBeNull();
    expect(forecastThresholdCrossing([], [], 5)).toBeNull();
    const f = new SeasonalForecaster(SEASONAL_DEFAULTS);
    expect(predictCrossing(f, T0, 5, { horizonMs: 3_600_000 })).toBeNull();
  });
});
