import { describe, expect, it } from "vitest";
import { nextRun, parseCron } from "./cron.js";

const at = (s: string) => Date.parse(s);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

describe("cron", () => {
  it("finds the next matching minute for steps, ranges, lists and names", () => {
    expect(iso(nextRun(parseCron("*/15 * * * *"), at("2026-03-01T10:07:30Z")))).toBe(
      "2026-03-01T10:15:00.000Z",
    );
    expect(iso(nextRun(parseCron("0 9-17/4 * * mon-fri"), at("2026-03-06T17:00:00Z")))).toBe(
      "2026-03-09T09:00:00.000Z",
    );
    expect(iso(nextRun(parseCron("30 2 1,15 * *"), at("2026-03-02T00:00:00Z")))).toBe(
      "2026-03-15T02:30:00.000Z",
    );
    expect(iso(nextRun(parseCron("0 0 1 jan *"), at("2026-03-02T00:00:00Z")))).toBe(
      "2027-01-01T00:00:00.000Z",
    );
    expect(iso(nextRun(parseCron("@hourly"), at("2026-03-02T00:00:00Z")))).toBe("2026-03-02T01:00:00.000Z");
  });
  it("treats 7 as Sunday and ORs restricted day-of-month and day-of-week (Vixie cron)", () => {
    expect(iso(nextRun(parseCron("0 12 * * 7"), at("2026-03-02T00:00:00Z")))).toBe(
      "2026-03-08T12:00:00.000Z",
    );
    // 13th of the month OR a Friday: Friday 6 March comes first.
    expect(iso(nextRun(parseCron("0 0 13 * fri"), at("2026-03-02T00:00:00Z")))).toBe(
      "2026-03-06T00:00:00.000Z",
    );
  });
  it("never fires for impossible dates, and names the bad field", () => {
    expect(nextRun(parseCron("0 0 30 feb *"), at("2026-01-01T00:00:00Z"))).toBeUndefined();
    expect(() => parseCron("61 * * * *")).toThrow(/minute/);
    expect(() => parseCron("* * *")).toThrow(/5 fields/);
    expect(() => parseCron("* * * * funday")).toThrow(/day-of-week/);
  });
});
