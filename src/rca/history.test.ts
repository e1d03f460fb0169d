import { describe, expect, it } from "vitest";
import { historyPrior, incidentSignature, jaccard } from "./history.js";
import { rankRootCauses } from "./rank.js";
import type { HistoryRecord, MetricEvidence, MetricFrame } from "./types.js";

function ev(service: string, kind: MetricEvidence["kind"], score: number, moved = true): MetricEvidence {
  return {
    metric: `${service}_${kind}`,
    service,
    kind,
    score,
    direction: "up",
    baseline: { median: 0, iqr: 1, scale: 1 },
    peak: { time: 0, value: score },
    onsetTime: moved ? 0 : undefined,
    moved,
  };
}

describe("incident signature", () => {
  it("keeps the strongest moved service:kind pairs, sorted and unique", () => {
    const sig = incidentSignature(
      [
        ev("carts", "cpu", 50),
        ev("carts", "cpu", 40),
        ev("front", "latency", 20),
        ev("user", "mem", 2, false),
      ],
      8,
    );
    expect(sig).toEqual(["carts:cpu", "front:latency"]);
    expect(incidentSignature([ev("a", "cpu", 9), ev("b", "cpu", 8), ev("c", "cpu", 7)], 2)).toEqual([
      "a:cpu",
      "b:cpu",
    ]);
  });

  it("measures overlap with Jaccard similarity", () => {
    expect(jaccard(["a", "b"], ["b", "c"])).toBeCloseTo(1 / 3);
    expect(jaccard([], [])).toBe(0);
  });
});

describe("history prior", () => {
  const records: HistoryRecord[] = [
    { signature: ["carts:cpu", "front:latency"], confirmedService: "carts" },
    { signature: ["carts:cpu", "front:latency"], confirmedService: "carts" },
    { signature: ["carts:cpu", "front:latency"], confirmedService: "front" },
    { signature: ["payment:mem"], confirmedService: "payment" },
  ];

  it("is the similarity-weighted share of similar incidents confirmed per service, shrunk by a pseudo-count", () => {
    const p = historyPrior(["carts:cpu", "front:latency"], records, { pseudoCount: 1 });
    expect(p.matches).toHaveLength(3);
    expect(p.probability.get("carts")).toBeCloseTo(2 / 4);
    expect(p.probability.get("front")).toBeCloseTo(1 / 4);
    expect(p.probability.has("payment")).toBe(false);
  });

  it("ignores dissimilar incidents", () => {
    const p = historyPrior(["orders:cpu"], records);
    expect(p.matches).toHaveLength(0);
    expect(p.probability.size).toBe(0);
  });

  it("boosts the service confirmed in similar past incidents when the metrics alone are close", () => {
    const n = 100;
    const mk = (service: string, jump: number) => ({
      name: `${service}_cpu`,
      service,
      kind: "cpu" as const,
      values: Array.from({ length: n }, (_, i) => 10 + (i % 4) + (i >= 60 ? jump : 0)),
    });
    const frame: MetricFrame = {
      times: Array.from({ length: n }, (_, i) => i),
      series: [mk("a", 44), mk("b", 40)],
    };
    expect(rankRootCauses(frame, { onsetTime: 60 }).candidates[0]?.service).toBe("a");
    const history: HistoryRecord[] = [
      { signature: ["a:cpu", "b:cpu"], confirmedService: "b" },
      { signature: ["a:cpu", "b:cpu"], confirmedService: "b" },
    ];
    const r = rankRootCauses(frame, { onsetTime: 60, history });
    expect(r.candidates[0]?.service).toBe("b");
    expect(r.candidates[0]?.adjustments.historyFactor).toBeCloseTo(1 + 2 / 3);
    expect(r.candidates[0]?.adjustments.notes.join(" ")).toMatch(/2 of 2 similar past incidents/);
  });

  it("matches the same incident again from the signature stored with its result", () => {
    const n = 100;
    const mk = (service: string, jump: number) => ({
      name: `${service}_cpu`,
      service,
      kind: "cpu" as const,
      values: Array.from({ length: n }, (_, i) => 10 + (i % 4) + (i >= 60 ? jump : 0)),
    });
    const frame: MetricFrame = {
      times: Array.from({ length: n }, (_, i) => i),
      series: [mk("a", 44), mk("b", 40)],
    };
    const first = rankRootCauses(frame, { onsetTime: 60 });
    expect(first.signature).toEqual(["a:cpu", "b:cpu"]);
    const again = rankRootCauses(frame, {
      onsetTime: 60,
      history: [{ signature: first.signature, confirmedService: "b" }],
    });
    expect(again.candidates.find((c) => c.service === "b")?.adjustments.historyFactor).toBeCloseTo(1.5);
    expect(again.candidates.find((c) => c.service === "a")?.adjustments.historyFactor).toBe(1);
  });
});
