import { fingerprint, type Labels } from "../core/index.js";
import type { Alert } from "../incidents/index.js";

export const ESCALATION_ALERTNAME = "RemediationEscalation";
export const ESCALATION_SOURCE = "novasre-escalation";

export interface Escalation {
  /** What gave up: `storm`, `verify_failed`, `interrupted`, `limit`, `exhausted`, ... */
  kind: string;
  message: string;
  executionId?: string | null;
  runbook?: string;
  target?: string;
  /** Labels of the open incident the escalation belongs to: the alert then joins that incident. */
  incidentLabels?: Labels;
}

/**
 * A page for a human as an alert: automation gave up, so the incident gets a critical alert that only a
 * person resolves (routing, channels, timeline and the outbox then treat it like any other). One alert
 * per kind and execution (or target), so repeats update it instead of paging again.
 */
export function escalationAlert(e: Escalation, now: number): Alert {
  const labels: Labels = {
    ...(e.incidentLabels ?? {}),
    alertname: ESCALATION_ALERTNAME,
    severity: "critical",
    escalation: e.kind,
    ...(e.runbook ? { runbook: e.runbook } : {}),
    ...(e.target ? { target: e.target } : {}),
  };
  return {
    fingerprint: fingerprint({ ...labels, execution: e.executionId ?? "" }),
    source: ESCALATION_SOURCE,
    labels,
    annotations: {
      summary: e.message,
      ...(e.executionId ? { execution: e.executionId } : {}),
    },
    status: "firing",
    startsAt: now,
    endsAt: null,
    generatorURL: null,
  };
}
