import type { SeriesAnalyzer } from "./series-analyzer.js";
import type { SeriesStore } from "./series-store.js";
import type { ServiceGraphBuilder } from "./service-graph.js";

/** How often the trace-derived RED figures are written as series (ms): the default scrape interval. */
export const RED_SERIES_INTERVAL_MS = 15_000;

/** Series names of the trace-derived RED figures, per service (label `service`) and per edge (`caller`, `callee`). */
export const RED_SERIES = {
  rate: "trace_requests_per_second",
  errorRatio: "trace_error_ratio",
  p99: "trace_latency_p99_seconds",
} as const;

/**
 * Writes each service's and each edge's current RED figures (over the graph's window) into the series
 * store, through the analyzer: traces then feed detection like scraped metrics do. Services with no request
 * in the window write nothing (a missing sample, not a zero, so a quiet service is not an anomaly by itself).
 */
export function recordRedSeries(
  graph: ServiceGraphBuilder,
  store: SeriesStore,
  analyzer: SeriesAnalyzer | undefined,
  now: number,
): number {
  let written = 0;
  const write = (labels: Record<string, string>, values: [string, number][]) => {
    for (const [name, v] of values) {
      const s = store.upsert({ ...labels, __name__: name, job: "traces" });
      if (s?.push(now, v)) {
        analyzer?.observe(s, now, v);
        written++;
      }
    }
  };
  for (const s of graph.serviceViews()) {
    if (s.requests === 0) continue;
    write({ service: s.name }, [
      [RED_SERIES.rate, s.rate],
      [RED_SERIES.errorRatio, s.errorRatio],
      [RED_SERIES.p99, s.latencyMs.p99 / 1000],
    ]);
  }
  for (const e of graph.edgeViews()) {
    if (e.requests === 0) continue;
    // The caller's view: an edge's trouble shows up first at its caller, so the caller is its service.
    write({ service: e.caller, caller: e.caller, callee: e.callee }, [
      [RED_SERIES.rate, e.rate],
      [RED_SERIES.errorRatio, e.errorRatio],
      [RED_SERIES.p99, e.latencyMs.p99 / 1000],
    ]);
  }
  analyzer?.flush();
  return written;
}
