import { describe, expect, it } from "vitest";
import { fingerprint, parseDuration, formatDuration, newId } from "./index.js";

describe("fingerprint", () => {
  it("ignores key order and separates keys from values", () => {
    expect(fingerprint({ a: "1", b: "2" })).toBe(fingerprint({ b: "2", a: "1" }));
    expect(fingerprint({ a: "1b", c: "" })).not.toBe(fingerprint({ a: "1", bc: "" }));
    expect(fingerprint({})).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("parseDuration", () => {
  it("parses Go-style durations and rejects junk", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("0")).toBe(0);
    expect(parseDuration("5 minutes")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe("1h30m");
  });
});

describe("newId", () => {
  it("sorts by creation time", () => {
    const a = newId("inc", 1000);
    const b = newId("inc", 2000);
    expect(a < b).toBe(true);
    expect(a).toMatch(/^inc_[0-9a-z]{26}$/);
  });
});
