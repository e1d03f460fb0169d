import { describe, expect, it } from "vitest";
import { parseSeriesCsv, parseTimestamp } from "./csv-series.js";

describe("parseTimestamp", () => {
  it("reads NAB's form as UTC, ISO 8601 with and without zone, and epoch seconds or ms", () => {
    const ms = Date.UTC(2014, 3, 10, 7, 15, 0);
    expect(parseTimestamp("2014-04-10 07:15:00")).toBe(ms);
    expect(parseTimestamp("2014-04-10 07:15:00.000000")).toBe(ms);
    expect(parseTimestamp("2014-04-10T07:15:00Z")).toBe(ms);
    expect(parseTimestamp("2014-04-10T09:15:00+02:00")).toBe(ms);
    expect(parseTimestamp(String(ms / 1000))).toBe(ms);
    expect(parseTimestamp(String(ms))).toBe(ms);
    expect(parseTimestamp("yesterday")).toBeNaN();
    expect(parseTimestamp("2014-13-40 99:00:00")).toBeNaN();
  });
});

describe("parseSeriesCsv", () => {
  it("skips the header and returns ascending samples", () => {
    const r = parseSeriesCsv("timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,2.5\n");
    expect(r.status).toBe("ok");
    if (r.status !== "ok") return;
    expect(Array.from(r.value.v)).toEqual([1, 2.5]);
    expect(r.value.warnings).toEqual([]);
  });

  it("sorts unsorted rows, drops duplicates (first kept), NaN and empty values, and says so", () => {
    const text = [
      "timestamp,value",
      "2020-01-01 00:10:00,3",
      "2020-01-01 00:00:00,1",
      "2020-01-01 00:00:00,9",
      "2020-01-01 00:05:00,",
      "2020-01-01 00:06:00,NaN",
      "not-a-time,4",
      "2020-01-01 00:07:00,2",
    ].join("\n");
    const r = parseSeriesCsv(text);
    expect(r.status).toBe("ok");
    if (r.status !== "ok") return;
    expect(Array.from(r.value.v)).toEqual([1, 2, 3]);
    expect(r.value.warnings.join(" | ")).toMatch(
      /unreadable timestamp.*non-numeric value.*sorted.*duplicate/,
    );
  });

  it("fails with a clear message for a file that is not a CSV, an empty file and binary input", () => {
    for (const text of [
      "",
      "hello world\nno commas here\n",
      "# Title\nsome, prose, with commas\n",
      "\u0000\u0001binary",
    ]) {
      const r = parseSeriesCsv(text);
      expect(r.status).toBe("error");
      if (r.status === "error") expect(r.error).toMatch(/not a timestamp,value CSV|binary/);
    }
  });

  it("accepts a single point", () => {
    const r = parseSeriesCsv("2020-01-01T00:00:00Z,5");
    expect(r.status === "ok" && r.value.t.length).toBe(1);
  });
});
