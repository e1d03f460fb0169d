import { describe, expect, it } from "vitest";
import { averageRanks, iqr, mad, median, quantileSorted } from "./robust-stats.js";

describe("robust statistics", () => {
  it("ignores NaN and infinite samples", () => {
    expect(median([3, Number.NaN, 1, 2, Number.POSITIVE_INFINITY])).toBe(2);
    expect(iqr([1, 2, 3, 4, 5, Number.NaN])).toBe(2);
    expect(median([Number.NaN])).toBeNaN();
  });

  it("interpolates quantiles linearly", () => {
    expect(quantileSorted([0, 10], 0.25)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
  });

  it("is not moved by a single outlier, unlike the mean", () => {
    const xs = [10, 11, 9, 10, 10, 1e9];
    expect(median(xs)).toBe(10);
    expect(mad(xs)).toBeLessThanOrEqual(1);
  });

  it("gives tied values their average rank and leaves NaN unranked", () => {
    const { ranks, count } = averageRanks([5, 1, 5, Number.NaN, 3]);
    expect(count).toBe(4);
    expect(Array.from(ranks.slice(0, 3))).toEqual([3.5, 1, 3.5]);
    expect(ranks[3]).toBeNaN();
    expect(ranks[4]).toBe(2);
  });
});
