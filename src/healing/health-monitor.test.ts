import { describe, expect, it } from "vitest";
import { ManualClock, silentLogger } from "../core/index.js";
import { HealthMonitor } from "./health-monitor.js";
import type { HealthTarget, ProbeConfig, Transition } from "./types.js";

/** A real metric probe over a variable the test controls: fails while `value.v > 0`. */
function metricTarget(id: string, value: { v: number }, over: Partial<ProbeConfig> = {}): HealthTarget {
  return {
    id,
    labels: { service: id },
    probes: [
      {
        name: "errors",
        spec: { kind: "metric", read: () => value.v, op: ">", threshold: 0 },
        periodMs: 10_000,
        timeoutMs: 1_000,
        failureThreshold: 2,
        successThreshold: 1,
        initialDelayMs: 5_000,
        severity: "critical",
        ...over,
      },
    ],
  };
}

function setup() {
  const clock = new ManualClock();
  const transitions: Transition[] = [];
  const monitor = new HealthMonitor({
    clock,
    logger: silentLogger(),
    onTransition: (t) => transitions.push(t),
    failedAfterMs: 60_000,
  });
  return { clock, transitions, monitor };
}

describe("HealthMonitor", () => {
  it("waits the initial delay, probes each period, and reports transitions once", async () => {
    const { clock, transitions, monitor } = setup();
    const value = { v: 1 };
    monitor.add(metricTarget("api", value));
    await monitor.tick();
    expect(monitor.state("api")?.state).toBe("healthy");
    clock.advance(5_000);
    await monitor.tick(); // failure 1
    await monitor.tick(); // not due again yet
    expect(transitions).toEqual([]);
    clock.advance(10_000);
    await monitor.tick(); // failure 2 -> critical
    expect(transitions.map((t) => [t.from, t.to])).toEqual([["healthy", "critical"]]);
    expect(transitions[0]?.failing).toEqual([
      { probe: "errors", message: "metric 1 > 0", severity: "critical" },
    ]);
    expect(monitor.unhealthyShare()).toBe(1);

    clock.advance(61_000);
    await monitor.tick(); // time alone: failed (and a probe run, still failing)
    expect(monitor.state("api")?.state).toBe("failed");

    value.v = 0;
    clock.advance(10_000);
    await monitor.tick();
    expect(transitions.map((t) => t.to)).toEqual(["critical", "failed", "healthy"]);
    expect(monitor.states()).toHaveLength(1);
  });

  it("replaces a target with the same id and forgets removed ones", async () => {
    const { clock, monitor } = setup();
    const value = { v: 1 };
    monitor.add(metricTarget("api", value, { failureThreshold: 1, initialDelayMs: 0 }));
    await monitor.tick();
    expect(monitor.state("api")?.state).toBe("critical");
    monitor.add(metricTarget("api", value, { failureThreshold: 1, initialDelayMs: 0 }));
    expect(monitor.state("api")?.state).toBe("healthy");
    monitor.remove("api");
    expect(monitor.state("api")).toBeUndefined();
    clock.advance(1);
    await monitor.tick();
    expect(monitor.unhealthyShare()).toBe(0);
  });

  it("markFailed turns a critical target failed", async () => {
    const { monitor, transitions } = setup();
    monitor.add(metricTarget("api", { v: 1 }, { failureThreshold: 1, initialDelayMs: 0 }));
    await monitor.tick();
    monitor.markFailed("api");
    expect(transitions.map((t) => t.to)).toEqual(["critical", "failed"]);
  });

  it("start runs due probes on its own timer; stop waits for them", async () => {
    const clock = new ManualClock();
    let seen: (t: Transition) => void = () => undefined;
    const first = new Promise<Transition>((r) => (seen = r));
    const monitor = new HealthMonitor({ clock, logger: silentLogger(), onTransition: (t) => seen(t) });
    monitor.add(metricTarget("api", { v: 1 }, { failureThreshold: 1, initialDelayMs: 0 }));
    monitor.start();
    expect((await first).to).toBe("critical");
    await monitor.stop();
    expect(monitor.state("api")?.state).toBe("critical");
  });
});
