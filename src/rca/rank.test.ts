import { describe, expect, it } from "vitest";
import { explainRanking } from "./explain.js";
import { rankRootCauses } from "./rank.js";
import type { MetricFrame, MetricSeries } from "./types.js";

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

const N = 300;
const ONSET = 200;
const T0 = 1_700_000_000;

/** Ten services x three metrics; `pay` burns CPU from ONSET, `front` latency follows 5 s later. */
function incident(): MetricFrame {
  const rand = rng(99);
  const series: MetricSeries[] = [];
  const services = ["front", "pay", "cart", "user", "ship", "cat", "ord", "q", "mq", "db"];
  for (const service of services) {
    for (const [metric, kind] of [
      ["cpu", "cpu"],
      ["mem", "mem"],
      ["lat_90", "latency"],
    ] as const) {
      const level = 20 + 50 * rand();
      const values = Array.from({ length: N }, () => level * (1 + 0.05 * (rand() - 0.5)));
      if (service === "pay" && metric === "cpu")
        for (let i = ONSET; i < N; i++) values[i] = values[i]! + level * 2;
      if (service === "front" && metric === "lat_90")
        for (let i = ONSET + 5; i < N; i++) values[i] = values[i]! + level * 0.5;
      if (service === "cart" && metric === "mem") values[50] = Number.NaN;
      series.push({ name: `${service}_${metric}`, service, kind, values });
    }
  }
  return { times: Array.from({ length: N }, (_, i) => T0 + i), series };
}

describe("rankRootCauses", () => {
  it("estimates the onset and ranks the faulty service with its metric and kind", () => {
    const r = rankRootCauses(incident());
    expect(r.onset.estimated).toBe(true);
    expect(Math.abs(r.onset.index - ONSET)).toBeLessThanOrEqual(3);
    const top = r.candidates[0]!;
    expect(top.service).toBe("pay");
    expect(top.metric).toBe("pay_cpu");
    expect(top.kind).toBe("cpu");
    expect(r.candidates[1]?.service).toBe("front");
  });

  it("gives confidences in [0, 1] that decrease with rank and sum to at most 1", () => {
    const r = rankRootCauses(incident());
    let sum = 0;
    for (let i = 0; i < r.candidates.length; i++) {
      const c = r.candidates[i]!;
      expect(c.confidence).toBeGreaterThanOrEqual(0);
      expect(c.confidence).toBeLessThanOrEqual(1);
      if (i > 0) expect(c.confidence).toBeLessThanOrEqual(r.candidates[i - 1]!.confidence);
      sum += c.confidence;
    }
    expect(sum).toBeLessThanOrEqual(1 + 1e-9);
    expect(r.candidates[0]!.confidence).toBeGreaterThan(0.5);
  });

  it("uses a given onset instead of estimating one", () => {
    const r = rankRootCauses(incident(), { onsetTime: T0 + ONSET + 60 });
    expect(r.onset).toMatchObject({ estimated: false, index: ONSET + 60, time: T0 + ONSET + 60 });
    expect(r.candidates[0]?.service).toBe("pay");
    // The excursion is traced back to where it began, not to the late onset.
    expect(r.candidates[0]?.evidence[0]?.onsetTime).toBe(T0 + ONSET);
  });

  it("orders the timeline by when each metric moved", () => {
    const r = rankRootCauses(incident());
    const names = r.timeline.map((e) => e.metric);
    expect(names.indexOf("pay_cpu")).toBeLessThan(names.indexOf("front_lat_90"));
    const pay = r.timeline.find((e) => e.metric === "pay_cpu")!;
    const front = r.timeline.find((e) => e.metric === "front_lat_90")!;
    expect(front.onsetTime! - pay.onsetTime!).toBe(5);
  });

  it("limits the candidate list and drops metrics with no data after the onset", () => {
    const f = incident();
    f.series.push({
      name: "ghost_cpu",
      service: "ghost",
      kind: "cpu",
      values: Array.from({ length: N }, () => NaN),
    });
    const r = rankRootCauses(f, { maxCandidates: 3 });
    expect(r.candidates).toHaveLength(3);
    expect(rankRootCauses(f).candidates.some((c) => c.service === "ghost")).toBe(false);
  });
});

describe("explainRanking", () => {
  it("names the metrics that moved, how far, and in what order", () => {
    // Onset given, so that offsets are exact: the explanation is under test here, not the estimator.
    const r = rankRootCauses(incident(), { onsetTime: T0 + ONSET });
    const text = explainRanking(r);
    expect(text).toMatch(/^Onset given at t=1700000200/);
    expect(text).toMatch(/1\. pay \(cpu\): score [\d.]+, confidence \d+%/);
    expect(text).toMatch(/pay_cpu rose to [\d.]+ \(normal median [\d.]+, [\d.]+ IQRs away\) from \+0s/);
    expect(text).toMatch(/front_lat_90 rose .* from \+5s/);
    expect(text).toMatch(/Order in which metrics moved: pay_cpu \+0s, front_lat_90 \+5s/);
    expect(explainRanking(rankRootCauses(incident()))).toMatch(/^Onset estimated at t=\d+ \(change strength/);
  });

  it("says so when nothing moved", () => {
    const flat: MetricFrame = {
      times: [1, 2, 3, 4],
      series: [{ name: "a_cpu", service: "a", kind: "cpu", values: [1, 1, 1, 1] }],
    };
    expect(explainRanking(rankRootCauses(flat, { onsetTime: 3 }))).toMatch(/No metric moved/);
  });
});
