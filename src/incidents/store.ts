import type {
  Severity,
  Incident,
  IncidentStatus,
  StoredAlert,
  StoredTimelineEntry,
  TimelineEntry,
  Alert,
} from "./model.js";
import type { IngestState, Plan } from "./planner.js";

export interface IncidentFilter {
  status?: IncidentStatus[];
  severity?: Severity[];
  service?: string;
  /** Only incidents created at or after this time (ms). */
  since?: number;
  limit: number;
  /** Return incidents created strictly before this id (ids sort by creation). */
  before?: string;
}

/** Persistence of the incident aggregate (incidents, their alerts, their timeline). Implemented in storage/. */
export interface IncidentStore {
  /** `groupKeys[i]` is the group key of `alerts[i]`. */
  loadIngestState(alerts: readonly Alert[], groupKeys: readonly string[]): Promise<IngestState>;
  /** Writes a whole plan in one transaction: all of it or none of it. */
  applyPlan(plan: Plan): Promise<void>;
  get(id: string): Promise<Incident | undefined>;
  getAlert(fingerprint: string): Promise<StoredAlert | undefined>;
  /** Alerts of incidents that are firing, or changed at or after `since`, each with its incident. */
  recentAlerts(since: number): Promise<{ alert: StoredAlert; incident: Incident }[]>;
  list(filter: IncidentFilter): Promise<Incident[]>;
  timeline(id: string): Promise<StoredTimelineEntry[]>;
  alertsOf(id: string): Promise<StoredAlert[]>;
  /** Saves an incident changed by a human action together with its timeline entries. */
  saveAction(incident: Incident, timeline: readonly TimelineEntry[]): Promise<void>;
  appendTimeline(entries: readonly TimelineEntry[]): Promise<void>;
  /** Open incidents, for restoring in-memory state at start. */
  countByStatus(): Promise<Record<string, number>>;
}
