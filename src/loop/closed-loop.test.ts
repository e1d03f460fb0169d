import { describe, expect, it } from "vitest";
import { ManualClock, createLogger } from "../core/index.js";
import type { Incident, TimelineEntry } from "../incidents/index.js";
import { SeriesStore } from "../ingest/index.js";
import type { RcaResult, RootCauseCandidate } from "../rca/index.js";
import type { RunbookMatch } from "../runbooks/index.js";
import {
  applyChanges,
  applyHealth,
  capScores,
  ClosedLoop,
  type LoopEvent,
  type RemediationRequest,
} from "./closed-loop.js";
import { loopConfigSchema } from "./config.js";

function candidate(service: string, score: number): RootCauseCandidate {
  return {
    service,
    score,
    confidence: 0,
    evidence: [],
    adjustments: { baseScore: score, graphFactor: 1, historyFactor: 1, notes: [] },
  };
}

describe("applyChanges", () => {
  const rca = { candidates: [candidate("orders", 10), candidate("payments", 6)] } as unknown as RcaResult;

  it("promotes a service changed shortly before the onset and says why", () => {
    const r = applyChanges(rca, [{ service: "payments", kind: "config", at: 95_000 }], 100_000, 600_000, 2);
    expect(r.candidates.map((c) => c.service)).toEqual(["payments", "orders"]);
    expect(r.recent.get("payments")?.kind).toBe("config");
    expect(r.candidates[0]?.adjustments.notes.join()).toMatch(/config change 5 s before/);
    expect(r.candidates[0]!.confidence + r.candidates[1]!.confidence).toBeCloseTo(1);
  });

  it("ignores changes outside the window or after the onset", () => {
    const old = applyChanges(rca, [{ service: "payments", kind: "config", at: 1_000 }], 700_000, 600_000, 2);
    expect(old.candidates[0]?.service).toBe("orders");
    expect(old.recent.size).toBe(0);
    const later = applyChanges(
      rca,
      [{ service: "payments", kind: "config", at: 200_000 }],
      100_000,
      600_000,
      2,
    );
    expect(later.recent.size).toBe(0);
  });

  it("takes a change between an early onset estimate and the detection", () => {
    const r = applyChanges(
      rca,
      [{ service: "payments", kind: "config", at: 102_000 }],
      100_000,
      600_000,
      2,
      105_000,
    );
    expect(r.recent.get("payments")?.kind).toBe("config");
    expect(r.candidates[0]?.adjustments.notes.join()).toMatch(
      /after the estimated onset, before the detection/,
    );
  });
});

describe("ClosedLoop", () => {
  it("ranks the cause from live series, records it and starts the best-matching runbook", async () => {
    const clock = new ManualClock(0);
    const store = new SeriesStore();
    // Two services scraped each second for 3 minutes; at 170 s payments' errors jump, orders' follow.
    const pay = store.upsert({
      __name__: "http_requests_total",
      service: "payments",
      instance: "p",
      code: "500",
    })!;
    const ord = store.upsert({
      __name__: "http_requests_total",
      service: "orders",
      instance: "o",
      code: "500",
    })!;
    const cpu = store.upsert({ __name__: "process_cpu_seconds_total", service: "orders", instance: "o" })!;
    let p = 0;
    let o = 0;
    for (let t = 1; t <= 180; t++) {
      p += t >= 170 ? 10 : (t % 3) * 0.1;
      o += t >= 171 ? 5 : (t % 2) * 0.1;
      pay.push(t * 1000, p);
      ord.push(t * 1000, o);
      cpu.push(t * 1000, t * 0.01);
    }
    clock.set(180_000);
    const incident = { id: "inc_1", status: "triggered", detectedAt: 172_000, reopenCount: 0 } as Incident;
    const getIncident = () => Promise.resolve({ ...incident });
    const recorded: TimelineEntry[] = [];
    const asked: Record<string, string>[] = [];
    const started: RemediationRequest[] = [];
    const events: LoopEvent[] = [];
    const pages: string[] = [];
    const loop = new ClosedLoop({
      config: loopConfigSchema.parse({ diagnose_delay: 0 }),
      clock,
      logger: createLogger("error"),
      series: () => store.all(),
      graph: () => ({ edges: [{ caller: "orders", callee: "payments", rate: 5 }] }),
      record: (e) => (recorded.push(...e), Promise.resolve()),
      getIncident,
      matches: (_i, _c, extra) => {
        asked.push(extra);
        return Promise.resolve([
          {
            loaded: { runbook: { name: "restart" } },
            params: { service: extra["rca_service"] ?? "" },
          } as unknown as RunbookMatch,
        ]);
      },
      remediate: (req) => {
        started.push(req);
        // The second guess fixes it.
        if (started.length === 2) incident.status = "resolved";
        return Promise.resolve({ status: "started", executionId: `exe_${started.length}` });
      },
      executionStatus: () => Promise.resolve("succeeded"),
      escalate: (e) => pages.push(e.message),
      health: () => [{ service: "orders", failing: ["errors"] }],
      sleep: (ms) => (clock.advance(ms), Promise.resolve()),
    });
    loop.onEvent((e) => events.push(e));
    loop.opened(incident);
    loop.opened(incident); // a repeat of the same opening is ignored
    await loop.idle();
    const d = loop.diagnosis("inc_1");
    expect(d?.onset).toBeGreaterThan(160_000);
    // The metrics point at payments; only orders fails its probes, and nothing it calls does.
    expect(d?.candidates[0]?.service).toBe("orders");
    expect(d?.candidates[0]?.adjustments.notes.join()).toMatch(/every dependency healthy/);
    expect(recorded.map((r) => [r.kind, r.data["service"], r.data["attempt"]])).toEqual([
      ["diagnosed", "orders", 1],
      ["diagnosed", "orders", 2],
    ]);
    // The first run succeeded, so the incident had the recheck time to clear before the second ranking.
    expect(recorded[1]!.at - recorded[0]!.at).toBeGreaterThanOrEqual(15_000);
    expect(asked[0]).toMatchObject({ rca_service: "orders", recent_change: "none" });
    // The first guess did not clear the incident; payments is next by the metrics, but its probes pass,
    // so it is not touched: the loop pages a human instead.
    expect(started.map((r) => [r.target, r.params["service"], r.incidentId])).toEqual([
      ["orders", "orders", "inc_1"],
    ]);
    expect(events.map((e) => e.type)).toEqual(["diagnosed", "remediation", "diagnosed", "no_runbook"]);
    expect(pages).toEqual([expect.stringMatching(/gave up on incident inc_1: no remediation left to try/)]);
  });
});

describe("applyHealth", () => {
  const graph = {
    edges: [
      { caller: "gateway", callee: "orders" },
      { caller: "orders", callee: "payments" },
      { caller: "orders", callee: "store" },
    ],
  };

  it("boosts the unhealthy service whose dependencies are healthy, not its unhealthy callers", () => {
    const out = applyHealth(
      [candidate("gateway", 10), candidate("orders", 6), candidate("store", 5)],
      [
        { service: "gateway", failing: ["errors"] },
        { service: "orders", failing: ["upstream-errors"] },
        { service: "payments", failing: ["liveness"] },
      ],
      graph,
      4,
      0.5,
    );
    // payments exposed nothing (dead) yet is the frontier; gateway and orders depend on it.
    expect(out.map((c) => c.service)).toEqual(["payments", "gateway", "orders", "store"]);
    expect(out[0]?.adjustments.notes.join()).toMatch(/failing liveness with every dependency healthy/);
    expect(out[1]?.adjustments.notes.join()).toMatch(/depends on unhealthy orders/);
    expect(out[2]?.adjustments.notes.join()).toMatch(/depends on unhealthy payments/);
    expect(out[3]?.adjustments.notes.join()).toMatch(/probes pass/);
    expect(out.reduce((t, c) => t + c.confidence, 0)).toBeCloseTo(1);
  });

  it("leaves the ranking alone when every probe passes", () => {
    const cs = [candidate("a", 2), candidate("b", 1)];
    expect(applyHealth(cs, [], graph, 4, 0.5)).toEqual(cs);
  });
});

describe("capScores", () => {
  it("caps the metric score and keeps the graph factor, so a quiet metric's jump cannot dominate", () => {
    const loud = {
      ...candidate("gateway", 400),
      adjustments: { baseScore: 500, graphFactor: 0.8, historyFactor: 1, notes: [] },
    };
    const out = capScores([loud, candidate("catalog", 9)], 10);
    expect(out.map((c) => [c.service, c.score])).toEqual([
      ["catalog", 9],
      ["gateway", 8],
    ]);
    expect(out[1]?.adjustments.notes.join()).toMatch(/metric score 500 capped at 10/);
  });
});

describe("applyHealth on a fresh failure", () => {
  it("lifts a frontier service whose metrics have barely moved above a loud caller", () => {
    const graph = { edges: [{ caller: "orders", callee: "payments" }] };
    const out = applyHealth(
      [candidate("orders", 10), candidate("payments", 0.01)],
      [
        { service: "orders", failing: ["upstream-errors"] },
        { service: "payments", failing: ["readiness"] },
      ],
      graph,
      4,
      0.2,
    );
    expect(out.map((c) => [c.service, c.score])).toEqual([
      ["payments", 20],
      ["orders", 10],
    ]);
  });
});

describe("ClosedLoop without a matching runbook", () => {
  it("records the ranking and pages nobody: the incident itself pages", async () => {
    const clock = new ManualClock(200_000);
    const incident = { id: "inc_2", status: "triggered", detectedAt: 190_000, reopenCount: 0 } as Incident;
    const pages: string[] = [];
    const events: LoopEvent[] = [];
    const loop = new ClosedLoop({
      config: loopConfigSchema.parse({ diagnose_delay: 0 }),
      clock,
      logger: createLogger("error"),
      series: () => new SeriesStore().all(),
      graph: () => ({ edges: [] }),
      record: () => Promise.resolve(),
      getIncident: () => Promise.resolve({ ...incident }),
      matches: () => Promise.resolve([]),
      remediate: () => Promise.reject(new Error("must not be called")),
      health: () => [{ service: "api", failing: ["liveness"] }],
      escalate: (e) => pages.push(e.message),
      sleep: (ms) => (clock.advance(ms), Promise.resolve()),
    });
    loop.onEvent((e) => events.push(e));
    loop.opened(incident);
    await loop.idle();
    expect(events.map((e) => e.type)).toEqual(["diagnosed", "no_runbook"]);
    expect(pages).toEqual([]);
  });
});

describe("ClosedLoop after a failed remediation", () => {
  it("ranks again and tries the next cause at once, without the recheck wait", async () => {
    const clock = new ManualClock(200_000);
    const incident = { id: "inc_3", status: "triggered", detectedAt: 190_000, reopenCount: 0 } as Incident;
    const recorded: TimelineEntry[] = [];
    const started: RemediationRequest[] = [];
    const loop = new ClosedLoop({
      config: loopConfigSchema.parse({ diagnose_delay: 0, recheck_after: "15s" }),
      clock,
      logger: createLogger("error"),
      series: () => new SeriesStore().all(),
      graph: () => ({ edges: [] }),
      record: (e) => (recorded.push(...e), Promise.resolve()),
      getIncident: () => Promise.resolve({ ...incident }),
      // Two runbooks match; the first to be tried fails (say, a restart that never gets ready).
      matches: () =>
        Promise.resolve(
          ["restart", "rollback"].map(
            (name) => ({ loaded: { runbook: { name } }, params: {} }) as unknown as RunbookMatch,
          ),
        ),
      remediate: (req) => {
        started.push(req);
        if (started.length === 2) incident.status = "resolved";
        return Promise.resolve({ status: "started", executionId: `exe_${started.length}` });
      },
      executionStatus: (id) => Promise.resolve(id === "exe_1" ? "failed" : "succeeded"),
      health: () => [{ service: "payments", failing: ["readiness"] }],
      sleep: (ms) => (clock.advance(ms), Promise.resolve()),
    });
    loop.opened(incident);
    await loop.idle();
    expect(started.map((r) => r.runbook)).toEqual(["restart", "rollback"]);
    expect(recorded.map((r) => r.data["attempt"])).toEqual([1, 2]);
    expect(recorded[1]!.at - recorded[0]!.at).toBeLessThan(15_000);
  });
});
