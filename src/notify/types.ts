import type { Labels } from "../core/index.js";

export type Severity = "P0" | "P1" | "P2" | "P3";
export type IncidentStatus = "triggered" | "acknowledged" | "mitigated" | "resolved" | "closed";

/** What a notification says about the incident it concerns. */
export interface IncidentRef {
  id: string;
  /** Stable per incident: PagerDuty dedup_key, Opsgenie alias, our idempotency anchor. */
  key: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  services: string[];
  url?: string;
}

/** An alert as routed by notify: normalised by ingest, attached to an incident by incidents/. */
export interface NotifyAlert {
  fingerprint: string;
  labels: Labels;
  annotations: Record<string, string>;
  status: "firing" | "resolved";
  startsAt: number;
  endsAt?: number;
  incident: IncidentRef;
}

export type NotificationKind = "trigger" | "update" | "acknowledge" | "resolve";

/** One message to one channel about exactly one incident. Stored in the outbox before it is sent. */
export interface Notification {
  /** Deterministic: the same flush of the same content yields the same key, so the outbox dedups it. */
  idempotencyKey: string;
  /** Channel name from config. */
  channel: string;
  /** Route path in the routing tree, e.g. `root.routes[0]`. */
  route: string;
  kind: NotificationKind;
  incident: IncidentRef;
  alerts: NotifyAlert[];
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Record<string, string>;
  createdAt: number;
}

export type ChannelType = "slack" | "pagerduty" | "opsgenie" | "jira" | "email" | "webhook";
export const CHANNEL_TYPES: readonly ChannelType[] = [
  "slack",
  "pagerduty",
  "opsgenie",
  "jira",
  "email",
  "webhook",
];
