import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_UNHEALTHY_SHARE } from "./config.js";
import { UnhealthyLimit } from "./unhealthy-limit.js";

describe("UnhealthyLimit", () => {
  it("holds above the share and pages once per episode", () => {
    const l = new UnhealthyLimit({ maxUnhealthyShare: 0.4, minTargets: 3 });
    expect(l.check(0.4, 10)).toEqual({ hold: false, page: false });
    expect(l.check(0.5, 10)).toEqual({ hold: true, page: true });
    expect(l.check(0.6, 10)).toEqual({ hold: true, page: false });
    expect(l.check(0.1, 10)).toEqual({ hold: false, page: false });
    expect(l.check(0.5, 10)).toEqual({ hold: true, page: true });
  });

  it("does not apply below the minimum number of targets", () => {
    const l = new UnhealthyLimit({ maxUnhealthyShare: 0.4, minTargets: 3 });
    expect(l.check(1, 2)).toEqual({ hold: false, page: false });
    expect(l.check(1, 3)).toEqual({ hold: true, page: true });
    expect(l.check(1)).toEqual({ hold: true, page: false });
  });

  it("defaults to 40%", () => {
    expect(DEFAULT_MAX_UNHEALTHY_SHARE).toBe(0.4);
    const l = new UnhealthyLimit();
    expect(l.check(0.4, 10).hold).toBe(false);
    expect(l.check(0.41, 10).hold).toBe(true);
  });
});
