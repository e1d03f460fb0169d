import { describe, expect, it } from "vitest";
import { ManualClock, createLogger } from "../core/index.js";
import type { Incident, TimelineEntry } from "../incidents/index.js";
import { SeriesStore } from "../ingest/index.js";
import type { RcaResult, RootCauseCandidate } from "../rca/index.js";
import type { RunbookMatch } from "../runbooks/index.js";
import { applyChanges, ClosedLoop, type LoopEvent, type RemediationRequest } from "./closed-loop.js";
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
    expect(r.change?.service).toBe("payments");
    expect(r.candidates[0]?.adjustments.notes.join()).toMatch(/config change 5 s before/);
    expect(r.candidates[0]!.confidence + r.candidates[1]!.confidence).toBeCloseTo(1);
  });

  it("ignores changes outside the window or after the onset", () => {
    const old = applyChanges(rca, [{ service: "payments", kind: "config", at: 1_000 }], 700_000, 600_000, 2);
    expect(old.candidates[0]?.service).toBe("orders");
    expect(old.change).toBeUndefined();
    const later = applyChanges(rca, [{ service: "payments", kind: "config", at: 200_000 }], 100_000, 600_000, 2);
    expect(later.change).toBeUndefined();
  });
});

describe("ClosedLoop", () => {
  it("ranks the cause from live series, records it and starts the best-matching runbook", async () => {
    const clock = new ManualClock(0);
    const store = new SeriesStore();
    // Two services scraped each second for 3 minutes; at 170 s payments' errors jump, orders' follow.
    const pay = store.upsert({ __name__: "http_requests_total", service: "payments", instance: "p", code: "500" })!;
    const ord = store.upsert({ __name__: "http_requests_total", service: "orders", instance: "o", code: "500" })!;
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
    const recorded: TimelineEntry[] = [];
    const asked: Record<string, string>[] = [];
    const started: RemediationRequest[] = [];
    const events: LoopEvent[] = [];
    const loop = new ClosedLoop({
      config: loopConfigSchema.parse({ diagnose_delay: 0 }),
      clock,
      logger: createLogger("error"),
      series: () => store.all(),
      graph: () => ({ edges: [{ caller: "orders", callee: "payments", rate: 5 }] }),
      record: (e) => (recorded.push(...e), Promise.resolve()),
      getIncident: () => Promise.resolve(incident),
      matches: (_i, _c, extra) => {
        asked.push(extra);
        return Promise.resolve([
          { loaded: { runbook: { name: "restart" } }, params: { service: extra["rca_service"] ?? "" } } as unknown as RunbookMatch,
        ]);
      },
      remediate: (req) => (started.push(req), Promise.resolve({ status: "started", executionId: "exe_1" })),
      sleep: () => Promise.resolve(),
    });
    loop.onEvent((e) => events.push(e));
    loop.opened(incident);
    loop.opened(incident); // a repeat of the same opening is ignored
    await loop.idle();
    expect(loop.diagnosis("inc_1")?.onset).toBeGreaterThan(160_000);
    expect(loop.diagnosis("inc_1")?.candidates[0]?.service).toBe("payments");
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ kind: "diagnosed", data: { service: "payments" } });
    expect(asked[0]).toMatchObject({ rca_service: "payments", recent_change: "none" });
    expect(started).toEqual([
      expect.objectContaining({ runbook: "restart", params: { service: "payments" }, target: "payments", incidentId: "inc_1" }),
    ]);
    expect(events.map((e) => e.type)).toEqual(["diagnosed", "remediation"]);
  });
});
