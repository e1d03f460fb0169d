import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ManualClock, silentLogger } from "../core/index.js";
import { healingConfigSchema } from "./config.js";
import { HealingController, type HealingStart } from "./controller.js";
import { createHealingMetrics } from "./metrics.js";
import type { HealthState, Transition } from "./types.js";

function setup(config: unknown = {}, opts: { share?: number; targets?: number; refuse?: string } = {}) {
  const clock = new ManualClock();
  const registry = new Registry();
  const started: HealingStart[] = [];
  const pages: { kind: string; message: string; target?: string }[] = [];
  const exhausted: string[] = [];
  let n = 0;
  const controller = new HealingController({
    clock,
    logger: silentLogger(),
    metrics: createHealingMetrics(registry),
    config: healingConfigSchema.parse(config),
    start: (req) => {
      if (opts.refuse) return Promise.reject(new Error(opts.refuse));
      started.push(req);
      return Promise.resolve({ executionId: `ex-${++n}` });
    },
    page: (ev) => pages.push(ev),
    unhealthyShare: () => opts.share ?? 0,
    ...(opts.targets !== undefined ? { monitoredTargets: () => opts.targets as number } : {}),
    exhausted: (t) => exhausted.push(t),
  });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    // Histogram parts (_sum, _count) are values of the metric without the suffix.
    const m = (await registry.getMetricsAsJSON()).find((x) => name.startsWith(x.name));
    return (m?.values ?? [])
      .filter((v) => ((v as { metricName?: string }).metricName ?? m?.name) === name)
      .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
      .reduce((s, v) => s + v.value, 0);
  };
  return { clock, controller, started, pages, exhausted, metric, opts };
}

const req = (target: string, runbook = "restart"): HealingStart => ({
  runbook,
  params: {},
  target,
  reason: "test",
});

function transition(
  to: HealthState,
  labels: Record<string, string> = { service: "api" },
  at = 0,
): Transition {
  return {
    target: { id: "api-1", labels, probes: [] },
    from: "healthy",
    to,
    failing: [{ probe: "http", message: "status 503", severity: "critical" }],
    at,
  };
}

describe("HealingController", () => {
  it("reactive policies start their runbook with rendered params when state and matchers fit", async () => {
    const { controller, started, metric } = setup({
      policies: [
        {
          name: "restart-api",
          when: { state: ["critical", "failed"], matchers: ['service="api"'] },
          runbook: "restart",
          params: { service: "{{ target.labels.service }}", id: "{{ target.id }}" },
        },
        { name: "degraded-only", when: { state: ["degraded"] }, runbook: "scale" },
      ],
    });
    controller.onTransition(transition("critical", { service: "web" }));
    controller.onTransition(transition("recovering"));
    await controller.idle();
    expect(started).toEqual([]);
    controller.onTransition(transition("critical"));
    await controller.idle();
    expect(started).toEqual([
      {
        runbook: "restart",
        params: { service: "api", id: "api-1" },
        target: "api-1",
        reason: "policy restart-api: api-1 healthy -> critical: http: status 503",
        policy: "restart-api",
      },
    ]);
    expect(await metric("self_healing_attempts_total", { target: "api-1", runbook: "restart" })).toBe(1);
  });

  it("backs off per target like CrashLoopBackOff", async () => {
    const { clock, controller } = setup();
    expect((await controller.remediate(req("a"))).status).toBe("started");
    expect(await controller.remediate(req("a"))).toMatchObject({
      status: "held",
      reason: "backoff",
      retryAt: clock.now() + 10_000,
    });
    expect((await controller.remediate(req("b"))).status).toBe("started");
    clock.advance(10_000);
    expect((await controller.remediate(req("a"))).status).toBe("started");
    clock.advance(10_000);
    expect(await controller.remediate(req("a"))).toMatchObject({
      reason: "backoff",
      retryAt: clock.now() + 10_000,
    });
  });

  it("backoff starts over after the target was healthy for reset_after", async () => {
    const { clock, controller } = setup({ backoff: { reset_after: "1m" } });
    await controller.remediate(req("api-1"));
    clock.advance(10_000);
    await controller.remediate(req("api-1"));
    controller.onTransition({ ...transition("healthy"), at: clock.now() });
    clock.advance(60_000);
    controller.onTransition({ ...transition("degraded"), at: clock.now() });
    expect((await controller.remediate(req("api-1"))).status).toBe("started");
    expect(await controller.remediate(req("api-1"))).toMatchObject({ retryAt: clock.now() + 10_000 });
  });

  it("opens the runbook's breaker after repeated failed outcomes, then allows one trial", async () => {
    const { clock, controller } = setup({ breaker: { failures: 2, window: "1m", cooldown: "30s" } });
    const a = await controller.remediate(req("a"));
    const b = await controller.remediate(req("b"));
    controller.outcome(a.status === "started" ? a.executionId : "", false);
    controller.outcome(b.status === "started" ? b.executionId : "", false);
    expect(await controller.remediate(req("c"))).toMatchObject({ status: "held", reason: "breaker_open" });
    expect((await controller.remediate(req("c", "other"))).status).toBe("started");
    clock.advance(30_000);
    const trial = await controller.remediate(req("d"));
    expect(trial.status).toBe("started");
    expect(await controller.remediate(req("e"))).toMatchObject({ reason: "breaker_open" });
    controller.outcome(trial.status === "started" ? trial.executionId : "", true);
    expect((await controller.remediate(req("e"))).status).toBe("started");
  });

  it("holds everything and pages once while too many targets are unhealthy", async () => {
    const { controller, pages, started, opts } = setup({}, { share: 0.5, targets: 10 });
    expect(await controller.remediate(req("a"))).toMatchObject({ status: "held", reason: "limit" });
    expect(await controller.remediate(req("b"))).toMatchObject({ status: "held", reason: "limit" });
    expect(pages.map((p) => p.kind)).toEqual(["healing_limit"]);
    expect(started).toEqual([]);
    opts.targets = 2; // below min_targets the limit does not apply
    expect((await controller.remediate(req("a"))).status).toBe("started");
  });

  it("reports executor refusals as held", async () => {
    const { controller, metric } = setup({}, { refuse: "kill switch engaged" });
    expect(await controller.remediate(req("a"))).toEqual({
      status: "held",
      reason: "refused",
      message: "kill switch engaged",
    });
    expect(await metric("self_healing_attempts_total")).toBe(0);
  });

  it("counts successes with their duration, and pages and marks failed when attempts are exhausted", async () => {
    const { clock, controller, metric, pages, exhausted } = setup({ max_attempts: 2 });
    const first = await controller.remediate(req("a"));
    clock.advance(42_000);
    controller.outcome(first.status === "started" ? first.executionId : "", true);
    controller.outcome("not-ours", true);
    expect(await metric("self_healing_successes_total", { target: "a" })).toBe(1);
    expect(await metric("healing_duration_seconds_sum")).toBe(42);

    for (let i = 0; i < 2; i++) {
      clock.advance(600_000);
      const r = await controller.remediate(req("a"));
      controller.outcome(r.status === "started" ? r.executionId : "", false);
    }
    expect(pages.map((p) => [p.kind, p.target])).toEqual([["healing_exhausted", "a"]]);
    expect(exhausted).toEqual(["a"]);
  });

  it("proactive policies: shadow only records; a live success counts as prevented", async () => {
    const { controller, started, metric } = setup({
      policies: [
        { name: "watch", when: { forecast: ['metric="disk_used_ratio"'] }, runbook: "cleanup", shadow: true },
        {
          name: "scale",
          when: { forecast: ['metric="cpu"', 'service="api"'] },
          runbook: "scale",
          params: { service: "{{ target.id }}" },
        },
      ],
    });
    const forecast = { target: "api", labels: { service: "api" }, crossesAt: 0, threshold: 0.9 };
    await controller.onForecast({ ...forecast, metric: "disk_used_ratio" });
    expect(started).toMatchObject([{ runbook: "cleanup", shadow: true, policy: "watch" }]);
    expect(await metric("predicted_failures_total")).toBe(1);
    expect(await metric("self_healing_attempts_total")).toBe(0);
    controller.outcome("ex-1", true);
    expect(await metric("self_healing_successes_total")).toBe(0);

    await controller.onForecast({ ...forecast, metric: "cpu" });
    expect(started[1]).toMatchObject({ runbook: "scale", params: { service: "api" } });
    controller.outcome("ex-2", true);
    expect(await metric("prevented_incidents_total", { target: "api" })).toBe(1);
    expect(await metric("predicted_failures_total")).toBe(2);
  });
});
