import { describe, expect, it } from "vitest";
import { graphAdjustments } from "./graph.js";
import { rankRootCauses } from "./rank.js";
import type { MetricFrame, MetricKind, ServiceGraph } from "./types.js";

/** Frame where `front` moves a bit more than `db` (its callee) and `other` stays put. */
function frame(): MetricFrame {
  const n = 100;
  const onset = 60;
  const mk = (service: string, metric: string, kind: MetricKind, jump: number) => ({
    name: `${service}_${metric}`,
    service,
    kind,
    values: Array.from({ length: n }, (_, i) => 10 + (i % 4) + (i >= onset ? jump : 0)),
  });
  return {
    times: Array.from({ length: n }, (_, i) => 1000 + i),
    series: [mk("front", "lat_90", "latency", 40), mk("db", "cpu", "cpu", 30), mk("other", "cpu", "cpu", 0)],
  };
}

describe("graph preference", () => {
  it("demotes a caller whose callee also moved, by the callee's share of its calls", () => {
    const graph: ServiceGraph = {
      edges: [
        { caller: "front", callee: "db", rate: 30 },
        { caller: "front", callee: "other", rate: 10 },
      ],
    };
    const adj = graphAdjustments(new Set(["front", "db"]), graph, { callerDiscount: 0.5 });
    expect(adj.get("front")?.factor).toBeCloseTo(1 - 0.5 * 0.75);
    expect(adj.get("front")?.explainedBy).toEqual([{ service: "db", share: 0.75 }]);
    expect(adj.has("db")).toBe(false);
  });

  it("leaves a caller alone when its callees did not move", () => {
    const graph: ServiceGraph = { edges: [{ caller: "front", callee: "other" }] };
    expect(graphAdjustments(new Set(["front"]), graph).size).toBe(0);
    expect(graphAdjustments(new Set(["front", "db"]), undefined).size).toBe(0);
  });

  it("follows calls through intermediate services", () => {
    const graph: ServiceGraph = {
      edges: [
        { caller: "a", callee: "b" },
        { caller: "b", callee: "c" },
      ],
    };
    const adj = graphAdjustments(new Set(["a", "c"]), graph, { callerDiscount: 0.5 });
    expect(adj.get("a")?.factor).toBeCloseTo(0.5);
    expect(adj.get("a")?.explainedBy[0]?.service).toBe("c");
  });

  it("handles a dense graph with cycles without enumerating paths", () => {
    const names = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const edges = names.flatMap((a) => names.filter((b) => b !== a).map((b) => ({ caller: a, callee: b })));
    const adj = graphAdjustments(new Set(names), { edges }, { callerDiscount: 0.5, maxDepth: 6 });
    expect(adj.size).toBe(40);
    for (const a of adj.values()) {
      expect(a.factor).toBeCloseTo(0.5);
      expect(a.explainedBy).toHaveLength(39);
    }
  });

  it("ranks the callee first when both move, and the caller first without a graph", () => {
    const f = frame();
    const without = rankRootCauses(f, { onsetTime: 1060 });
    expect(without.candidates[0]?.service).toBe("front");
    const withGraph = rankRootCauses(f, {
      onsetTime: 1060,
      graph: { edges: [{ caller: "front", callee: "db", rate: 5 }] },
    });
    expect(withGraph.candidates.map((c) => c.service).slice(0, 2)).toEqual(["db", "front"]);
    expect(withGraph.candidates[1]?.adjustments.notes.join(" ")).toMatch(/downstream db/);
  });

  it("keeps a caller on top when its own move dwarfs its callee's", () => {
    const f = frame();
    const db = f.series.find((s) => s.service === "db")!;
    db.values = Array.from({ length: 100 }, (_, i) => 10 + (i % 4) + (i >= 60 ? 6 : 0));
    const r = rankRootCauses(f, { onsetTime: 1060, graph: { edges: [{ caller: "front", callee: "db" }] } });
    expect(r.candidates[0]?.service).toBe("front");
  });
});
