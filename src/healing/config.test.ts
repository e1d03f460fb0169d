import { describe, expect, it } from "vitest";
import { healingConfigSchema } from "./config.js";
import { targetsFromConfig } from "./config-targets.js";

describe("healing config", () => {
  it("has CrashLoopBackOff, breaker, limit and Kubernetes probe defaults", () => {
    const c = healingConfigSchema.parse({
      targets: [{ id: "a", probes: [{ name: "p", tcp: { host: "127.0.0.1", port: 80 } }] }],
    });
    expect(c.backoff).toEqual({ initial: 10_000, max: 300_000, reset_after: 600_000 });
    expect(c.limit).toEqual({ max_unhealthy_share: 0.4, min_targets: 3 });
    expect(c.failed_after).toBe(120_000);
    expect(targetsFromConfig(c)).toEqual([
      {
        id: "a",
        labels: {},
        probes: [
          {
            name: "p",
            spec: { kind: "tcp", host: "127.0.0.1", port: 80 },
            periodMs: 10_000,
            timeoutMs: 1_000,
            failureThreshold: 3,
            successThreshold: 1,
            initialDelayMs: 0,
            severity: "critical",
          },
        ],
      },
    ]);
  });

  it("accepts durations as text and refuses probes with zero or two kinds, and unknown keys", () => {
    const c = healingConfigSchema.parse({ backoff: { initial: "5s", max: "1m" }, failed_after: "30s" });
    expect([c.backoff.initial, c.backoff.max, c.failed_after]).toEqual([5_000, 60_000, 30_000]);
    const bad = (probe: unknown) =>
      healingConfigSchema.safeParse({ targets: [{ id: "a", probes: [probe] }] }).success;
    expect(bad({ name: "p" })).toBe(false);
    expect(bad({ name: "p", command: { argv: ["true"] }, tcp: { host: "h", port: 1 } })).toBe(false);
    expect(bad({ name: "p", command: { argv: ["true"] } })).toBe(true);
    expect(healingConfigSchema.safeParse({ nope: 1 }).success).toBe(false);
    expect(
      healingConfigSchema.safeParse({
        policies: [{ name: "x", when: { state: ["healthy"] }, runbook: "r" }],
      }).success,
    ).toBe(false);
  });
});
