import { describe, expect, it } from "vitest";
import { concatTables, parseNumericCsv, tableToFrame } from "./csv-frame.js";
import { inferKind, owningService, parseColumnName } from "./metric-name.js";

describe("metric names", () => {
  it("attributes a -db component to its service", () => {
    expect(owningService("carts-db")).toBe("carts");
    expect(owningService("front-end")).toBe("front-end");
    expect(parseColumnName("carts-db_cpu")).toEqual({
      service: "carts",
      component: "carts-db",
      metric: "cpu",
    });
    expect(parseColumnName("front-end_lat_90")).toEqual({
      service: "front-end",
      component: "front-end",
      metric: "lat_90",
    });
    expect(parseColumnName("time")).toBeUndefined();
  });

  it("infers the kind of a metric", () => {
    expect(inferKind("cpu")).toBe("cpu");
    expect(inferKind("mem")).toBe("mem");
    expect(inferKind("lat_99")).toBe("latency");
    expect(inferKind("errors_total")).toBe("errors");
    expect(inferKind("lod")).toBe("traffic");
    expect(inferKind("goroutines")).toBe("other");
  });
});

describe("CSV frames", () => {
  it("reads empty and non-numeric cells as NaN", () => {
    const t = parseNumericCsv("time,a_cpu,b_mem\n1,0.5,\n2,nan,7\n3,,NaN\n");
    expect(t.rows).toBe(3);
    expect(Array.from(t.columns[1]!)).toEqual([0.5, Number.NaN, Number.NaN]);
    expect(Array.from(t.columns[2]!)).toEqual([Number.NaN, 7, Number.NaN]);
  });

  it("concatenates by column name and builds series per service", () => {
    const a = parseNumericCsv("time,x_cpu,x-db_mem\n1,1,10\n");
    const b = parseNumericCsv("time,x-db_mem,y_cpu\n2,11,5\n");
    const frame = tableToFrame(concatTables(a, b));
    expect(Array.from(frame.times)).toEqual([1, 2]);
    const byName = new Map(frame.series.map((s) => [s.name, s]));
    expect(byName.get("x-db_mem")?.service).toBe("x");
    expect(Array.from(byName.get("x-db_mem")!.values)).toEqual([10, 11]);
    expect(Array.from(byName.get("y_cpu")!.values)).toEqual([Number.NaN, 5]);
    expect(Array.from(byName.get("x_cpu")!.values)).toEqual([1, Number.NaN]);
  });
});
