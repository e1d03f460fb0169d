import { describe, expect, it } from "vitest";
import type { StoredTimelineEntry } from "../incidents/index.js";
import {
  draftRunbook,
  incidentSignature,
  rankRunbooks,
  signatureSimilarity,
  splitCommand,
} from "./learning.js";
import { parseRunbook } from "./load.js";

const outcome = (signature: string, runbook: string, success: boolean) => ({
  signature,
  runbook,
  success,
  incidentId: "i",
  executionId: "e",
  at: 0,
});

describe("learning", () => {
  it("signs incidents by alert names and services, order-free", () => {
    const sig = incidentSignature({ services: ["db", "api"], labels: {} }, [
      { labels: { alertname: "B" } },
      { labels: { alertname: "A" } },
      { labels: { alertname: "A" } },
    ]);
    expect(sig).toBe("A,B@api,db");
    expect(signatureSimilarity("A,B@api", "A@api")).toBeCloseTo(2 / 3);
    expect(signatureSimilarity("A@api", "C@db")).toBe(0);
  });

  it("ranks runbooks by similarity-weighted past success", () => {
    const ranked = rankRunbooks("HighLatency@api", [
      outcome("HighLatency@api", "restart", true),
      outcome("HighLatency@api", "restart", true),
      outcome("HighLatency@api", "scale", false),
      outcome("HighLatency@api", "scale", true),
      outcome("DiskFull@db", "cleanup", true),
    ]);
    expect(ranked.map((r) => r.runbook)).toEqual(["restart", "scale"]);
    expect(ranked[0]).toMatchObject({ successes: 2, attempts: 2 });
    expect(ranked[0]?.score).toBeCloseTo(3 / 4);
  });

  it("drafts a runbook from operator notes, commands as argv, most frequent first", () => {
    const note = (incidentId: string, at: number, text: string, actor = "user:ops"): StoredTimelineEntry => ({
      id: at,
      incidentId,
      at,
      kind: "note",
      actor,
      data: { text },
    });
    const yaml = draftRunbook("HighLatency@api", [
      {
        incidentId: "i1",
        timeline: [
          note("i1", 1, "checked the dashboard"),
          note("i1", 2, "ran `kubectl rollout restart deployment/api`"),
        ],
      },
      {
        incidentId: "i2",
        timeline: [
          note("i2", 5, "Ran `kubectl rollout restart deployment/api`"),
          note("i2", 6, "auto", "system:runbooks"),
        ],
      },
    ]);
    const rb = parseRunbook(yaml, "draft");
    expect(rb.draft).toBe(true);
    expect(rb.steps[0]).toMatchObject({ kind: "approval" });
    expect(rb.steps[1]).toMatchObject({
      kind: "command",
      argv: ["kubectl", "rollout", "restart", "deployment/api"],
    });
    expect(rb.steps[2]).toMatchObject({ kind: "manual", instructions: "checked the dashboard" });
    expect(rb.steps.some((s) => s.kind === "manual" && s.instructions === "auto")).toBe(false);
    expect(splitCommand(`psql -c "select 1" 'a b'`)).toEqual(["psql", "-c", "select 1", "a b"]);
  });
});
