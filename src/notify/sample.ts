import type { IncidentRef, Notification, NotificationKind, NotifyAlert } from "./types.js";

/** A realistic notification for previews and docs: a checkout latency incident with two alerts. */
export function sampleNotification(
  kind: NotificationKind = "trigger",
  channel = "preview",
  now = Date.UTC(2026, 0, 1, 12, 0),
): Notification {
  const incident: IncidentRef = {
    id: "inc_01jgexample0000000000000000",
    key: "novasre-inc-01jgexample",
    title: "Checkout p99 latency above 2s",
    severity: "P1",
    status:
      kind === "resolve"
        ? ("resolved" as const)
        : kind === "acknowledge"
          ? ("acknowledged" as const)
          : ("triggered" as const),
    services: ["checkout", "payments"],
    url: "https://novasre.example.com/incidents/inc_01jgexample0000000000000000",
  };
  const status = kind === "resolve" ? ("resolved" as const) : ("firing" as const);
  const alerts: NotifyAlert[] = [
    {
      fingerprint: "3f2a9c1d5e7b8a60",
      labels: { alertname: "HighLatency", service: "checkout", env: "prod", severity: "critical" },
      annotations: {
        summary: "checkout p99 latency 2.4s (threshold 2s)",
        description: "p99 over 5m on /api/checkout",
        runbook_url: "https://runbooks.example.com/latency",
      },
      status,
      startsAt: now - 6 * 60_000,
      ...(status === "resolved" ? { endsAt: now } : {}),
      incident,
    },
    {
      fingerprint: "8b1e4d2c9a7f3e51",
      labels: { alertname: "ErrorRate", service: "payments", env: "prod", severity: "warning" },
      annotations: { summary: "payments 5xx ratio 4.1% (threshold 2%)" },
      status,
      startsAt: now - 4 * 60_000,
      ...(status === "resolved" ? { endsAt: now } : {}),
      incident,
    },
  ];
  return {
    idempotencyKey: "sample0000000000000000000000000",
    channel,
    route: "root",
    kind,
    incident,
    alerts,
    groupLabels: {},
    commonLabels: { env: "prod" },
    commonAnnotations: {},
    createdAt: now,
  };
}
