import { describe, expect, it } from "vitest";
import { ManualClock } from "../core/index.js";
import { TargetHealth } from "./target-health.js";
import type { HealthTarget, ProbeConfig } from "./types.js";

function probe(name: string, over: Partial<ProbeConfig> = {}): ProbeConfig {
  return {
    name,
    spec: { kind: "tcp", host: "127.0.0.1", port: 1 },
    periodMs: 10_000,
    timeoutMs: 1_000,
    failureThreshold: 3,
    successThreshold: 1,
    initialDelayMs: 0,
    severity: "critical",
    ...over,
  };
}

const target = (probes: ProbeConfig[]): HealthTarget => ({ id: "api", labels: { service: "api" }, probes });
const FAIL = { ok: false, message: "boom" } as const;
const OK = { ok: true } as const;

describe("TargetHealth", () => {
  it("starts healthy and turns critical only after failureThreshold consecutive failures", () => {
    const clock = new ManualClock();
    const h = new TargetHealth(target([probe("live")]), clock.now());
    expect(h.state).toBe("healthy");
    expect(h.record("live", FAIL, clock.now())).toBeUndefined();
    expect(h.record("live", FAIL, clock.now())).toBeUndefined();
    expect(h.record("live", OK, clock.now())).toBeUndefined(); // streak broken
    h.record("live", FAIL, clock.now());
    h.record("live", FAIL, clock.now());
    expect(h.record("live", FAIL, clock.now())).toEqual({ from: "healthy", to: "critical" });
    expect(h.failing()).toEqual([{ probe: "live", message: "boom", severity: "critical" }]);
    expect(h.record("live", OK, clock.now())).toEqual({ from: "critical", to: "healthy" });
    expect(h.failing()).toEqual([]);
  });

  it("warning probes failing make it degraded; a critical one wins", () => {
    const clock = new ManualClock();
    const h = new TargetHealth(
      target([
        probe("live", { failureThreshold: 1 }),
        probe("latency", { failureThreshold: 1, severity: "warning" }),
      ]),
      clock.now(),
    );
    expect(h.record("latency", FAIL, clock.now())).toEqual({ from: "healthy", to: "degraded" });
    expect(h.record("live", FAIL, clock.now())).toEqual({ from: "degraded", to: "critical" });
    expect(h.failing().map((f) => f.probe)).toEqual(["live", "latency"]);
    expect(h.record("live", OK, clock.now())).toEqual({ from: "critical", to: "degraded" });
  });

  it("is recovering while passing with fewer than successThreshold successes, and falls back on a failure", () => {
    const clock = new ManualClock();
    const h = new TargetHealth(
      target([probe("live", { failureThreshold: 1, successThreshold: 3 })]),
      clock.now(),
    );
    h.record("live", FAIL, clock.now());
    expect(h.state).toBe("critical");
    expect(h.record("live", OK, clock.now())).toEqual({ from: "critical", to: "recovering" });
    expect(h.record("live", OK, clock.now())).toBeUndefined();
    expect(h.record("live", FAIL, clock.now())).toEqual({ from: "recovering", to: "critical" });
    h.record("live", OK, clock.now());
    h.record("live", OK, clock.now());
    expect(h.record("live", OK, clock.now())).toEqual({ from: "recovering", to: "healthy" });
  });

  it("turns failed when critical for longer than failed_after", () => {
    const clock = new ManualClock();
    const h = new TargetHealth(target([probe("live", { failureThreshold: 1 })]), clock.now(), 120_000);
    h.record("live", FAIL, clock.now());
    clock.advance(120_000);
    expect(h.evaluate(clock.now())).toBeUndefined();
    clock.advance(1);
    expect(h.evaluate(clock.now())).toEqual({ from: "critical", to: "failed" });
    expect(h.stateSince).toBe(clock.now());
    expect(h.record("live", OK, clock.now())).toEqual({ from: "failed", to: "healthy" });
  });

  it("is failed when marked exhausted, until its probes pass", () => {
    const clock = new ManualClock();
    const h = new TargetHealth(target([probe("live", { failureThreshold: 1 })]), clock.now());
    h.record("live", FAIL, clock.now());
    expect(h.markFailed(clock.now())).toEqual({ from: "critical", to: "failed" });
    expect(h.record("live", FAIL, clock.now())).toBeUndefined();
    expect(h.record("live", OK, clock.now())).toEqual({ from: "failed", to: "healthy" });
    h.record("live", FAIL, clock.now());
    expect(h.state).toBe("critical");
  });
});
