import { describe, expect, it } from "vitest";
import { transitionAlerts } from "./health-alerts.js";
import type { HealthState, ProbeFailure, Transition } from "./types.js";

const target = { id: "web-1", labels: { service: "web" }, probes: [] };
const t = (from: HealthState, to: HealthState, failing: ProbeFailure[] = []): Transition => ({
  target,
  from,
  to,
  failing,
  at: 1_000,
});
const http: ProbeFailure = { probe: "http", message: "status 503", severity: "critical" };
const tcp: ProbeFailure = { probe: "tcp", message: "ECONNREFUSED", severity: "critical" };

describe("transitionAlerts", () => {
  it("fires HealthCheckFailing with stable labels and the failing probes in annotations", () => {
    const [a] = transitionAlerts(t("healthy", "critical", [http, tcp]));
    expect(a).toMatchObject({
      status: "firing",
      source: "healing",
      labels: { alertname: "HealthCheckFailing", severity: "critical", source: "healing", service: "web" },
      annotations: { probe: "http", summary: "web-1 is critical: http: status 503; tcp: ECONNREFUSED" },
    });
    const [other] = transitionAlerts(t("healthy", "failed", [tcp]));
    expect(other?.fingerprint).toBe(a?.fingerprint);
  });

  it("resolves the same fingerprint when healthy again, and switches alerts on degraded", () => {
    const [fired] = transitionAlerts(t("healthy", "critical", [http]));
    const [resolved] = transitionAlerts(t("recovering", "healthy"));
    expect(resolved).toMatchObject({ status: "resolved", fingerprint: fired?.fingerprint, endsAt: 1_000 });

    const switched = transitionAlerts(t("critical", "degraded", [{ ...http, severity: "warning" }]));
    expect(switched.map((a) => [a.labels["alertname"], a.status, a.labels["severity"]])).toEqual([
      ["HealthCheckFailing", "resolved", "critical"],
      ["HealthDegraded", "firing", "warning"],
    ]);
    expect(transitionAlerts(t("critical", "recovering"))).toEqual([]);
    expect(transitionAlerts(t("critical", "failed"))).toEqual([]);
  });
});
