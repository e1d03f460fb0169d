import { describe, expect, it } from "vitest";
import { scoreMetric } from "./scoring.js";

/** Normal period alternating 9, 10, 11 (median 10, IQR 2), then the given tail. */
function series(tail: number[], normalLength = 60): number[] {
  const normal = Array.from({ length: normalLength }, (_, i) => 9 + (i % 3));
  return [...normal, ...tail];
}

describe("scoreMetric (BARO-style robust score)", () => {
  it("scores the largest deviation after the onset in normal-period IQRs", () => {
    const values = series([10, 14, 30, 12]);
    const s = scoreMetric(values, 60, { persistenceSamples: 1 });
    expect(s.median).toBe(10);
    expect(s.iqr).toBe(2);
    expect(s.score).toBe(10); // |30 - 10| / 2
    expect(s.direction).toBe("up");
    expect(s.peakIndex).toBe(62);
  });

  it("reports drops as direction down", () => {
    const s = scoreMetric(series([10, -10, -10, -10, 10]), 60);
    expect(s.score).toBe(10);
    expect(s.direction).toBe("down");
  });

  it("is not fooled by outliers in the normal period", () => {
    const values = series([30]);
    values[5] = 1e6;
    values[17] = -1e6;
    expect(scoreMetric(values, 60).score).toBeCloseTo(10, 5);
  });

  it("skips missing samples on both sides", () => {
    const values = series([Number.NaN, 30, Number.NaN]);
    values[3] = Number.NaN;
    const s = scoreMetric(values, 60);
    expect(s.score).toBeCloseTo(10, 5);
    expect(scoreMetric(series([Number.NaN, Number.NaN]), 60).peakIndex).toBe(-1);
  });

  it("falls back to a share of the level when the normal period is flat", () => {
    const flat = [...Array.from({ length: 50 }, () => 1000), 1003, 1100];
    const s = scoreMetric(flat, 50, { relativeScaleFloor: 0.01, persistenceSamples: 1 });
    expect(s.iqr).toBe(0);
    expect(s.scale).toBe(10);
    expect(s.score).toBe(10); // 100 / (1% of 1000)
  });

  it("uses the largest magnitude as the level of a metric that was zero", () => {
    const errors = [...Array.from({ length: 50 }, () => 0), 0, 4, 8];
    const s = scoreMetric(errors, 50, { relativeScaleFloor: 0.01, persistenceSamples: 1 });
    expect(s.scale).toBeCloseTo(0.08);
    expect(s.score).toBeCloseTo(100);
  });

  it("scores the level a metric holds, not a one-sample spike", () => {
    const spike = series([10, 60, 10, 10, 10]);
    expect(scoreMetric(spike, 60, { persistenceSamples: 1 }).score).toBe(25);
    expect(scoreMetric(spike, 60, { persistenceSamples: 3 }).score).toBe(0);
    const shift = series([10, 60, 22, 24, 22, 10]);
    const s = scoreMetric(shift, 60, { persistenceSamples: 3 });
    expect(s.score).toBe(6); // held 22..24 for three samples: min |x - 10| / 2 = 6
    expect(s.peakIndex).toBe(62);
  });

  it("gives a metric that never changes a zero score", () => {
    expect(
      scoreMetric(
        Array.from({ length: 20 }, () => 0),
        10,
      ).score,
    ).toBe(0);
  });

  it("finds where the excursion began even when the onset given is late", () => {
    const values = series([40, 41, 42, 43, 44, 45]);
    const s = scoreMetric(values, 63, { movedScore: 5 });
    expect(s.onsetIndex).toBe(60);
    const quiet = scoreMetric(series([10, 11, 9]), 60, { movedScore: 5 });
    expect(quiet.onsetIndex).toBe(-1);
  });
});
