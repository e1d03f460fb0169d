import { describe, expect, it } from "vitest";
import { ManualClock, silentLogger } from "../core/index.js";
import type { Alert } from "../incidents/index.js";
import type { DecodedSpan, SpanResource } from "./otlp-span.js";
import { RED_SERIES, recordRedSeries } from "./red-series.js";
import { SeriesAnalyzer } from "./series-analyzer.js";
import { SeriesStore } from "./series-store.js";
import { ServiceGraphBuilder } from "./service-graph.js";

const res = (service: string): SpanResource => ({ service, attributes: {} });
function call(i: number, ms: number, error: boolean): DecodedSpan[] {
  const base = { scope: "t", name: "GET", startMs: 0, statusMessage: "", attributes: {} };
  const traceId = i.toString(16).padStart(32, "0");
  return [
    {
      ...base,
      resource: res("web"),
      traceId,
      spanId: "00000000000000a1",
      parentSpanId: "",
      kind: 3,
      durationMs: ms,
      statusCode: 0,
    },
    {
      ...base,
      resource: res("api"),
      traceId,
      spanId: "00000000000000b2",
      parentSpanId: "00000000000000a1",
      kind: 2,
      durationMs: ms - 1,
      statusCode: error ? 2 : 0,
    },
  ];
}

describe("trace-derived RED series", () => {
  it("writes RED per service and edge into the store, and detection sees them", () => {
    const clock = new ManualClock();
    const graph = new ServiceGraphBuilder({ clock });
    const alerts: Alert[] = [];
    const analyzer = new SeriesAnalyzer({
      clock,
      logger: silentLogger(),
      // Stand-in detector: an error ratio above 10% is anomalous.
      detectorFactory: (l) =>
        l["__name__"] === RED_SERIES.errorRatio
          ? { update: (_t, v) => ({ score: v, anomaly: v > 0.1 }) }
          : undefined,
      emit: (a) => void alerts.push(...a),
    });
    const store = new SeriesStore();
    for (let i = 1; i <= 60; i++) graph.add(call(i, 20, i % 4 === 0));
    // Two services (web counts its root spans) and one edge, three figures each.
    expect(recordRedSeries(graph, store, analyzer, clock.now())).toBe(9);
    const api = store.select({ __name__: RED_SERIES.errorRatio, service: "api" })[0];
    expect(api?.last()?.v).toBeCloseTo(0.25, 6);
    const edge = store.select({ __name__: RED_SERIES.rate, caller: "web", callee: "api" })[0];
    expect(edge?.last()?.v).toBeCloseTo(60 / 60, 6);
    expect(store.select({ __name__: RED_SERIES.p99, service: "api" })[0]?.last()?.v).toBeGreaterThan(0.01);
    // The API's error ratio and the edge's (caller web) both crossed 10%.
    expect(alerts.map((a) => `${a.labels["service"]}:${a.labels["callee"] ?? "-"}`).sort()).toEqual([
      "api:-",
      "web:api",
    ]);
    // A window with no requests writes nothing.
    clock.advance(120_000);
    expect(recordRedSeries(graph, store, analyzer, clock.now())).toBe(0);
  });
});
