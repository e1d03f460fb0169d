import type { Labels } from "../core/index.js";

export const SEVERITIES = ["P0", "P1", "P2", "P3"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const INCIDENT_STATUSES = ["triggered", "acknowledged", "mitigated", "resolved", "closed"] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const OPEN_STATUSES: readonly IncidentStatus[] = ["triggered", "acknowledged", "mitigated"];

export type AlertStatus = "firing" | "resolved";

/** An alert normalised from any source (Alertmanager, the events API, our own detectors). */
export interface Alert {
  fingerprint: string;
  source: string;
  labels: Labels;
  annotations: Record<string, string>;
  status: AlertStatus;
  startsAt: number;
  endsAt: number | null;
  generatorURL: string | null;
}

export interface StoredAlert extends Alert {
  incidentId: string | null;
  updatedAt: number;
  /** Times of recent firing/resolved flips, kept only within the flap window. */
  transitions: number[];
  flapping: boolean;
}

export interface Incident {
  id: string;
  /** Stable key for outside systems (PagerDuty dedup_key, Opsgenie alias). */
  key: string;
  groupKey: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  services: string[];
  labels: Labels;
  assignee: string | null;
  /** Earliest start of any of its alerts: when the problem began, as far as we know. */
  detectedAt: number;
  createdAt: number;
  acknowledgedAt: number | null;
  mitigatedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  lastActivityAt: number;
  reopenCount: number;
}

export type TimelineKind =
  | "opened"
  | "alert_fired"
  | "alert_joined"
  | "alert_resolved"
  | "alert_flapping"
  | "severity_changed"
  | "status_changed"
  | "reopened"
  | "acknowledged"
  | "assigned"
  | "note"
  | "notified"
  | "notify_failed"
  | "muted"
  | "silence_expired"
  | "diagnosed";

export interface TimelineEntry {
  incidentId: string;
  at: number;
  kind: TimelineKind;
  /** `system`, `alertmanager`, `events-api`, or `user:<token name>`. */
  actor: string;
  data: Record<string, unknown>;
}

export interface StoredTimelineEntry extends TimelineEntry {
  id: number;
}

/** Durations in seconds, null while the milestone has not happened. */
export interface IncidentTimings {
  timeToDetect: number;
  timeToAcknowledge: number | null;
  timeToMitigate: number | null;
  timeToResolve: number | null;
}

export function incidentTimings(i: Incident): IncidentTimings {
  const since = (t: number | null, from: number) => (t === null ? null : Math.max(0, (t - from) / 1000));
  return {
    timeToDetect: Math.max(0, (i.createdAt - i.detectedAt) / 1000),
    timeToAcknowledge: since(i.acknowledgedAt, i.createdAt),
    timeToMitigate: since(i.mitigatedAt, i.detectedAt),
    timeToResolve: since(i.resolvedAt, i.detectedAt),
  };
}

export function isOpen(status: IncidentStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
