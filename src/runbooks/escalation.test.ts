import { describe, expect, it } from "vitest";
import { escalationAlert, ESCALATION_ALERTNAME } from "./escalation.js";

describe("escalationAlert", () => {
  it("joins the incident's group and keeps one alert per kind and execution", () => {
    const a = escalationAlert(
      {
        kind: "verify_failed",
        message: "not cleared",
        executionId: "rbe_1",
        runbook: "fix",
        incidentLabels: { service: "api" },
      },
      1_000,
    );
    expect(a.labels).toEqual({
      service: "api",
      alertname: ESCALATION_ALERTNAME,
      severity: "critical",
      escalation: "verify_failed",
      runbook: "fix",
    });
    expect(a).toMatchObject({
      status: "firing",
      startsAt: 1_000,
      annotations: { summary: "not cleared", execution: "rbe_1" },
    });
    const again = escalationAlert(
      {
        kind: "verify_failed",
        message: "still",
        executionId: "rbe_1",
        runbook: "fix",
        incidentLabels: { service: "api" },
      },
      2_000,
    );
    expect(again.fingerprint).toBe(a.fingerprint);
    const other = escalationAlert(
      { kind: "verify_failed", message: "x", executionId: "rbe_2", runbook: "fix" },
      2_000,
    );
    expect(other.fingerprint).not.toBe(a.fingerprint);
  });
});
