import { describe, expect, it } from "vitest";
import { estimateOnset, windowedRankChange } from "./onset.js";

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function noisy(rand: () => number, n: number, level: number, sd: number): number[] {
  return Array.from({ length: n }, () => level + sd * (rand() + rand() + rand() - 1.5) * 2);
}

describe("windowedRankChange", () => {
  it("peaks at a level shift and is near zero on noise", () => {
    const rand = rng(1);
    const x = [...noisy(rand, 100, 0, 1), ...noisy(rand, 100, 5, 1)];
    const z = windowedRankChange(x, 20);
    let arg = 0;
    for (let k = 0; k < z.length; k++) if (Math.abs(z[k]!) > Math.abs(z[arg]!)) arg = k;
    expect(arg).toBeGreaterThanOrEqual(98);
    expect(arg).toBeLessThanOrEqual(102);
    expect(z[arg]!).toBeGreaterThan(5);
    expect(Math.abs(z[50]!)).toBeLessThan(3);
  });

  it("returns zeros when there are too few samples", () => {
    expect(Array.from(windowedRankChange([1, 2, 3], 5))).toEqual([0, 0, 0]);
  });
});

describe("estimateOnset", () => {
  it("finds a known change point shared by a few of many metrics, away from the middle", () => {
    const rand = rng(7);
    const n = 400;
    const cp = 270;
    const metrics: number[][] = [];
    for (let m = 0; m < 30; m++) metrics.push(noisy(rand, n, 50, 2)); // unaffected
    for (let m = 0; m < 3; m++) {
      const x = noisy(rand, n, 20, 1);
      for (let i = cp; i < n; i++) x[i] = x[i]! + 4 + m;
      metrics.push(x);
    }
    // A slow trend over the whole window and a metric with spikes must not pull the estimate.
    metrics.push(Array.from({ length: n }, (_, i) => i * 0.5 + rand()));
    const spiky = noisy(rand, n, 5, 1);
    spiky[60] = 500;
    spiky[61] = 500;
    metrics.push(spiky);
    const est = estimateOnset(metrics, { windowSamples: 30 });
    expect(Math.abs(est.index - cp)).toBeLessThanOrEqual(3);
    expect(est.strength).toBeGreaterThan(1);
  });

  it("finds a gradual leak soon after it starts", () => {
    const rand = rng(3);
    const n = 300;
    const cp = 120;
    const leak = noisy(rand, n, 100, 1).map((v, i) => (i >= cp ? v + (i - cp) * 0.5 : v));
    const cpu = noisy(rand, n, 10, 1).map((v, i) => (i >= cp ? v + 3 : v));
    const est = estimateOnset([leak, cpu, noisy(rand, n, 1, 0.1)], { windowSamples: 30 });
    expect(est.index).toBeGreaterThanOrEqual(cp - 2);
    expect(est.index).toBeLessThanOrEqual(cp + 10);
  });

  it("places a slow ramp closer to its start with the refining pass than without", () => {
    const rand = rng(21);
    const n = 400;
    const cp = 150;
    const ramps = Array.from({ length: 3 }, () =>
      noisy(rand, n, 0, 1).map((v, i) => (i >= cp ? v + 8 * Math.min(1, (i - cp) / 90) : v)),
    );
    const metrics = [...ramps, ...Array.from({ length: 10 }, () => noisy(rand, n, 0, 1))];
    const coarse = estimateOnset(metrics, { windowSamples: 45, refine: false });
    const refined = estimateOnset(metrics, { windowSamples: 45 });
    expect(coarse.index - cp).toBeGreaterThan(10);
    expect(Math.abs(refined.index - cp)).toBeLessThan(coarse.index - cp);
  });

  it("copes with missing samples", () => {
    const rand = rng(11);
    const n = 200;
    const x = noisy(rand, n, 0, 1).map((v, i) => (i >= 90 ? v + 6 : v));
    for (let i = 0; i < n; i += 7) x[i] = Number.NaN;
    const est = estimateOnset([x], { windowSamples: 20 });
    expect(Math.abs(est.index - 90)).toBeLessThanOrEqual(3);
  });

  it("reports a weak strength when nothing changes", () => {
    const rand = rng(5);
    const metrics = Array.from({ length: 10 }, () => noisy(rand, 300, 0, 1));
    const changed = Array.from({ length: 10 }, () =>
      noisy(rand, 300, 0, 1).map((v, i) => (i >= 150 ? v + 5 : v)),
    );
    expect(estimateOnset(metrics, { windowSamples: 30 }).strength).toBeLessThan(
      estimateOnset(changed, { windowSamples: 30 }).strength,
    );
  });
});
