import { fingerprint } from "../core/index.js";
import type { Alert } from "../incidents/index.js";
import type { HealthState, Transition } from "./types.js";

export const HEALTH_FAILING_ALERTNAME = "HealthCheckFailing";
export const HEALTH_DEGRADED_ALERTNAME = "HealthDegraded";
export const HEALING_SOURCE = "healing";

function alertnameOf(state: HealthState): string | undefined {
  if (state === "critical" || state === "failed" || state === "recovering") return HEALTH_FAILING_ALERTNAME;
  if (state === "degraded") return HEALTH_DEGRADED_ALERTNAME;
  return undefined;
}

/**
 * The alerts a transition fires and resolves. Labels are the target's plus fixed ones, so a target's
 * alert keeps its fingerprint from firing to resolving; which probe fails goes in the annotations.
 */
export function transitionAlerts(t: Transition): Alert[] {
  const out: Alert[] = [];
  const before = alertnameOf(t.from);
  const after = alertnameOf(t.to);
  if (before === after) return out;
  const labelsFor = (alertname: string): Record<string, string> => ({
    target: t.target.id,
    ...t.target.labels,
    alertname,
    severity: alertname === HEALTH_FAILING_ALERTNAME ? "critical" : "warning",
    source: HEALING_SOURCE,
  });
  if (before) {
    const labels = labelsFor(before);
    out.push({
      fingerprint: fingerprint(labels),
      source: HEALING_SOURCE,
      labels,
      annotations: { summary: `${t.target.id} is ${t.to}`, state: t.to },
      status: "resolved",
      startsAt: t.at,
      endsAt: t.at,
      generatorURL: null,
    });
  }
  if (after) {
    const labels = labelsFor(after);
    const first = t.failing[0];
    out.push({
      fingerprint: fingerprint(labels),
      source: HEALING_SOURCE,
      labels,
      annotations: {
        summary: `${t.target.id} is ${t.to}: ${t.failing.map((f) => `${f.probe}: ${f.message}`).join("; ") || "probes failing"}`,
        state: t.to,
        ...(first ? { probe: first.probe } : {}),
      },
      status: "firing",
      startsAt: t.at,
      endsAt: null,
      generatorURL: null,
    });
  }
  return out;
}
