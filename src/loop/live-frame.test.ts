import { describe, expect, it } from "vitest";
import { SeriesStore } from "../ingest/index.js";
import { frameFromSeries } from "./live-frame.js";

function fill(store: SeriesStore, labels: Record<string, string>, points: [number, number][]) {
  const s = store.upsert(labels)!;
  for (const [t, v] of points) s.push(t, v);
}

describe("frameFromSeries", () => {
  it("turns counters into per-second rates summed over instances and routes", () => {
    const store = new SeriesStore();
    const pts = (perS: number): [number, number][] =>
      Array.from({ length: 6 }, (_, i) => [1_000 * (i + 1), perS * i] as [number, number]);
    fill(
      store,
      { __name__: "http_requests_total", service: "cart", instance: "cart-0", route: "/a", code: "200" },
      pts(2),
    );
    fill(
      store,
      { __name__: "http_requests_total", service: "cart", instance: "cart-1", route: "/b", code: "200" },
      pts(3),
    );
    const f = frameFromSeries(store.all(), { from: 2_000, to: 6_000 });
    expect(Array.from(f.times)).toEqual([2, 3, 4, 5, 6]);
    const s = f.series.find((x) => x.name === "cart_http_requests_total{code=200}");
    expect(s?.kind).toBe("traffic");
    expect(Array.from(s!.values)).toEqual([5, 5, 5, 5, 5]);
  });

  it("handles counter resets, gaps beyond the lookback and the mean of a duration summary", () => {
    const store = new SeriesStore();
    fill(store, { __name__: "d_seconds_sum", service: "p", instance: "p-0" }, [
      [1_000, 0],
      [2_000, 1],
      [3_000, 2],
    ]);
    fill(store, { __name__: "d_seconds_count", service: "p", instance: "p-0" }, [
      [1_000, 0],
      [2_000, 4],
      [3_000, 8],
    ]);
    // A restart: the counter starts again from 0.
    fill(store, { __name__: "c_total", service: "p", instance: "p-0" }, [
      [1_000, 100],
      [2_000, 110],
      [3_000, 4],
    ]);
    fill(store, { __name__: "up", service: "p", instance: "p-0" }, [
      [1_000, 1],
      [2_000, 1],
    ]);
    const f = frameFromSeries(store.all(), { from: 2_000, to: 8_000, lookbackMs: 3_000 });
    const get = (n: string) => Array.from(f.series.find((x) => x.name === n)!.values);
    expect(get("p_d_seconds_mean").slice(0, 2)).toEqual([0.25, 0.25]);
    expect(get("p_c_total").slice(0, 2)).toEqual([10, 4]);
    // up's last sample at 2 s stands for 3 s, then the series is missing.
    expect(get("p_up").map((v) => (Number.isNaN(v) ? null : v))).toEqual([1, 1, 1, 1, null, null, null]);
  });

  it("keeps only series of a service, and never histogram buckets", () => {
    const store = new SeriesStore();
    fill(store, { __name__: "x_bucket", service: "a", le: "0.1" }, [[1_000, 1]]);
    fill(store, { __name__: "no_service" }, [[1_000, 1]]);
    fill(store, { __name__: "process_resident_memory_bytes", service: "a", instance: "a-0" }, [[1_000, 5]]);
    const f = frameFromSeries(store.all(), { from: 1_000, to: 1_000 });
    expect(f.series.map((s) => [s.name, s.kind])).toEqual([["a_process_resident_memory_bytes", "mem"]]);
  });
});
