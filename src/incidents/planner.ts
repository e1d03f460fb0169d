import { labelsToString, newId, pick } from "../core/index.js";
import type { IncidentsConfig } from "./config.js";
import {
  isOpen,
  severityRank,
  type Alert,
  type Incident,
  type StoredAlert,
  type TimelineEntry,
} from "./model.js";
import { severityOf } from "./severity.js";

/** What the planner needs to know about the world before a batch. Loaded by the store in a few queries. */
export interface IngestState {
  /** Known alerts, by fingerprint (at least those of the batch). */
  alerts: Map<string, StoredAlert>;
  /** Incidents by id (at least those of the batch's known alerts and the open ones of the batch's groups). */
  incidents: Map<string, Incident>;
  /** The most recent open incident per group key, for the batch's group keys. */
  openByGroup: Map<string, string>;
  /**
   * Fingerprints currently firing per incident, for at least the incidents that a resolution in the
   * batch touches (incidents missing here are treated as having no other firing alert loaded).
   */
  firing: Map<string, Set<string>>;
}

/** A change to pass on to notifications: one alert, as it now stands, and its incident. */
export interface AlertChange {
  alert: StoredAlert;
  incident: Incident;
  /** The alert joined an incident that was already open: downstream updates, does not page again. */
  joined: boolean;
}

export interface Plan {
  alerts: Map<string, StoredAlert>;
  incidents: Map<string, Incident>;
  createdIncidents: Set<string>;
  memberships: { incidentId: string; fingerprint: string; joinedAt: number }[];
  timeline: TimelineEntry[];
  changes: AlertChange[];
  /** Incidents that reached `resolved` in this batch (for MTTR metrics). */
  resolved: Incident[];
  /** Alerts of the batch that changed nothing (exact repeats). */
  unchanged: number;
}

export function groupKeyOf(alert: Pick<Alert, "labels">, cfg: IncidentsConfig): string {
  return labelsToString(pick(alert.labels, cfg.group_by));
}

function sameAnnotations(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

function titleOf(alert: Alert): string {
  return (
    alert.annotations["summary"] ?? alert.annotations["title"] ?? alert.labels["alertname"] ?? "Incident"
  );
}

function servicesOf(alert: Alert): string[] {
  const s = alert.labels["service"] ?? alert.labels["job"];
  return s ? [s] : [];
}

/**
 * Decides what a batch of alerts does to alerts and incidents: dedup, grouping, severity, lifecycle,
 * reopen and flap detection. Pure: the same state, batch, config and time give the same plan (ids aside).
 */
export function planAlerts(
  batch: readonly Alert[],
  state: IngestState,
  cfg: IncidentsConfig,
  now: number,
  actor: string,
): Plan {
  const plan: Plan = {
    alerts: new Map(),
    incidents: new Map(),
    createdIncidents: new Set(),
    memberships: [],
    timeline: [],
    changes: [],
    resolved: [],
    unchanged: 0,
  };
  const alertNow = (fp: string) => plan.alerts.get(fp) ?? state.alerts.get(fp);
  const incidentNow = (id: string) => plan.incidents.get(id) ?? state.incidents.get(id);
  const firingOf = (id: string) => {
    let s = state.firing.get(id);
    if (!s) state.firing.set(id, (s = new Set()));
    return s;
  };
  const note = (incidentId: string, kind: TimelineEntry["kind"], data: Record<string, unknown>, by = actor) =>
    plan.timeline.push({ incidentId, at: now, kind, actor: by, data });
  const setIncident = (inc: Incident) => plan.incidents.set(inc.id, inc);

  for (const alert of batch) {
    const prev = alertNow(alert.fingerprint);
    if (
      prev &&
      prev.status === alert.status &&
      prev.startsAt === alert.startsAt &&
      prev.endsAt === alert.endsAt &&
      sameAnnotations(prev.annotations, alert.annotations)
    ) {
      plan.unchanged++;
      continue;
    }
    // A resolved alert we never saw firing opens nothing.
    if (!prev && alert.status === "resolved") {
      plan.unchanged++;
      continue;
    }

    const flipped = !prev || prev.status !== alert.status;
    const transitions = (prev?.transitions ?? []).filter((t) => t > now - cfg.flap.window);
    if (flipped) transitions.push(now);
    const flapping = transitions.length >= cfg.flap.threshold;
    const next: StoredAlert = {
      ...alert,
      incidentId: prev?.incidentId ?? null,
      updatedAt: now,
      transitions,
      flapping,
    };

    if (!flipped) {
      // Same state, new details (annotations, endsAt): keep them, no lifecycle change.
      plan.alerts.set(alert.fingerprint, next);
      continue;
    }

    if (alert.status === "resolved") {
      plan.alerts.set(alert.fingerprint, next);
      const incId = next.incidentId;
      const inc = incId ? incidentNow(incId) : undefined;
      if (!inc) continue;
      const firing = firingOf(inc.id);
      firing.delete(alert.fingerprint);
      note(inc.id, "alert_resolved", { fingerprint: alert.fingerprint, labels: alert.labels });
      if (flapping && !prev?.flapping)
        note(
          inc.id,
          "alert_flapping",
          { fingerprint: alert.fingerprint, flips: transitions.length },
          "system",
        );
      let updated: Incident = { ...inc, lastActivityAt: now };
      if (cfg.auto_resolve && firing.size === 0 && isOpen(inc.status)) {
        updated = { ...updated, status: "resolved", resolvedAt: now };
        note(
          inc.id,
          "status_changed",
          { from: inc.status, to: "resolved", reason: "all alerts resolved" },
          "system",
        );
        plan.resolved.push(updated);
      }
      setIncident(updated);
      if (!flapping) plan.changes.push({ alert: next, incident: updated, joined: false });
      continue;
    }

    // Firing, newly or again.
    const sev = severityOf(alert.labels, cfg.severity);
    const gk = groupKeyOf(alert, cfg);
    let target: Incident | undefined;
    let joined = false;
    const own = next.incidentId ? incidentNow(next.incidentId) : undefined;
    if (own && isOpen(own.status)) {
      target = own;
      joined = true;
    } else if (
      own &&
      own.status === "resolved" &&
      own.resolvedAt !== null &&
      now - own.resolvedAt <= cfg.reopen_window
    ) {
      target = {
        ...own,
        status: "triggered",
        resolvedAt: null,
        mitigatedAt: null,
        acknowledgedAt: null,
        reopenCount: own.reopenCount + 1,
      };
      note(
        own.id,
        "reopened",
        { fingerprint: alert.fingerprint, previousResolvedAt: own.resolvedAt },
        "system",
      );
      note(
        own.id,
        "status_changed",
        { from: "resolved", to: "triggered", reason: "alert fired again" },
        "system",
      );
    } else {
      const candidateId = state.openByGroup.get(gk);
      const candidate = candidateId ? incidentNow(candidateId) : undefined;
      if (candidate && isOpen(candidate.status) && now - candidate.lastActivityAt <= cfg.group_window) {
        target = candidate;
        joined = true;
      }
    }

    if (!target) {
      const id = newId("inc", now);
      target = {
        id,
        key: id,
        groupKey: gk,
        title: titleOf(alert),
        severity: sev,
        status: "triggered",
        services: servicesOf(alert),
        labels: pick(alert.labels, cfg.group_by),
        assignee: null,
        detectedAt: alert.startsAt,
        createdAt: now,
        acknowledgedAt: null,
        mitigatedAt: null,
        resolvedAt: null,
        closedAt: null,
        lastActivityAt: now,
        reopenCount: 0,
      };
      plan.createdIncidents.add(id);
      state.openByGroup.set(gk, id);
      note(id, "opened", { severity: sev, title: target.title, groupKey: gk }, "system");
    } else {
      const services = new Set(target.services);
      for (const s of servicesOf(alert)) services.add(s);
      target = {
        ...target,
        services: [...services].sort(),
        detectedAt: Math.min(target.detectedAt, alert.startsAt),
        lastActivityAt: now,
      };
      if (severityRank(sev) < severityRank(target.severity)) {
        note(
          target.id,
          "severity_changed",
          { from: target.severity, to: sev, fingerprint: alert.fingerprint },
          "system",
        );
        target = { ...target, severity: sev };
      }
    }

    const isNewMember = next.incidentId !== target.id;
    next.incidentId = target.id;
    plan.alerts.set(alert.fingerprint, next);
    if (isNewMember)
      plan.memberships.push({ incidentId: target.id, fingerprint: alert.fingerprint, joinedAt: now });
    firingOf(target.id).add(alert.fingerprint);
    note(target.id, joined && isNewMember ? "alert_joined" : "alert_fired", {
      fingerprint: alert.fingerprint,
      labels: alert.labels,
      severity: sev,
    });
    if (flapping && !prev?.flapping)
      note(
        target.id,
        "alert_flapping",
        { fingerprint: alert.fingerprint, flips: transitions.length },
        "system",
      );
    setIncident(target);
    if (!flapping) plan.changes.push({ alert: next, incident: target, joined });
  }

  // Changes reference the incident as it stood at that alert; downstream wants the final state.
  for (const c of plan.changes) c.incident = plan.incidents.get(c.incident.id) ?? c.incident;
  return plan;
}
