import { NotFoundError, type Clock, type Logger } from "../core/index.js";
import type { IncidentsConfig } from "./config.js";
import { applyAction, type IncidentAction } from "./lifecycle.js";
import type { IncidentMetrics } from "./metrics.js";
import type { Alert, Incident, StoredAlert, StoredTimelineEntry, TimelineEntry } from "./model.js";
import { groupKeyOf, planAlerts, type AlertChange } from "./planner.js";
import type { IncidentFilter, IncidentStore } from "./store.js";

export interface IngestSummary {
  received: number;
  unchanged: number;
  incidentsOpened: string[];
  incidentsTouched: string[];
}

export interface IncidentEvents {
  /** Alerts whose state changed, after they are stored. */
  alertsChanged?(changes: AlertChange[]): void | Promise<void>;
  /** A human changed an incident (acknowledge, resolve, ...), after it is stored. */
  incidentChanged?(incident: Incident, action: IncidentAction, actor: string): void | Promise<void>;
}

export interface IncidentServiceDeps {
  store: IncidentStore;
  /**
   * How many alerts' last stored state to remember, so exact repeats (most of what Alertmanager sends)
   * are answered without a database read. Only safe while this process is the one writer of alerts:
   * app.ts enables it for SQLite and leaves it off (0) for PostgreSQL, where replicas may share the data.
   */
  dedupCacheSize?: number;
  config: IncidentsConfig;
  clock: Clock;
  logger: Logger;
  metrics?: IncidentMetrics;
  events?: IncidentEvents;
}

/** What makes a repeat an exact repeat: the fields whose change the planner acts on. */
function stateKey(a: Alert): string {
  return `${a.status}|${a.startsAt}|${a.endsAt ?? ""}|${JSON.stringify(a.annotations)}`;
}

/**
 * The incident engine's front door. Every change runs through one in-process queue, so a batch's
 * read-plan-write never interleaves with another's (two batches cannot both open the same group's incident).
 */
export class IncidentService {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly seen = new Map<string, string>();

  constructor(private readonly deps: IncidentServiceDeps) {}

  private remember(alerts: readonly Alert[]): void {
    const cap = this.deps.dedupCacheSize ?? 0;
    if (cap <= 0) return;
    for (const a of alerts) {
      this.seen.delete(a.fingerprint);
      this.seen.set(a.fingerprint, stateKey(a));
      if (this.seen.size > cap) this.seen.delete(this.seen.keys().next().value as string);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every change queued so far is written. */
  drain(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  ingest(alerts: readonly Alert[], actor: string): Promise<IngestSummary> {
    return this.serial(async () => {
      const { store, config, clock, metrics, events } = this.deps;
      const now = clock.now();
      const fresh = this.seen.size
        ? alerts.filter((a) => this.seen.get(a.fingerprint) !== stateKey(a))
        : alerts;
      const state = await store.loadIngestState(
        fresh,
        fresh.map((a) => groupKeyOf(a, config)),
      );
      const plan = planAlerts(fresh, state, config, now, actor);
      await store.applyPlan(plan);
      plan.unchanged += alerts.length - fresh.length;
      this.remember(fresh);
      metrics?.alertsReceived(actor, alerts.length);
      for (const id of plan.createdIncidents) {
        const inc = plan.incidents.get(id);
        if (inc) metrics?.opened(inc);
      }
      for (const inc of plan.resolved) metrics?.resolved(inc);
      // Awaited: when the webhook answers, the notifications this batch causes are in the outbox.
      if (plan.changes.length) await events?.alertsChanged?.(plan.changes);
      return {
        received: alerts.length,
        unchanged: plan.unchanged,
        incidentsOpened: [...plan.createdIncidents],
        incidentsTouched: [...plan.incidents.keys()],
      };
    });
  }

  act(id: string, action: IncidentAction, actor: string): Promise<Incident> {
    return this.serial(async () => {
      const { store, clock, metrics, events } = this.deps;
      const inc = await store.get(id);
      if (!inc) throw new NotFoundError("incident", id);
      const out = applyAction(inc, action, actor, clock.now());
      if (!out.changed) return inc;
      await store.saveAction(out.incident, out.timeline);
      if (out.incident.status === "acknowledged" && inc.status !== "acknowledged")
        metrics?.acknowledged(out.incident);
      if (out.incident.status === "resolved") metrics?.resolved(out.incident);
      await events?.incidentChanged?.(out.incident, action, actor);
      return out.incident;
    });
  }

  async record(entries: readonly TimelineEntry[]): Promise<void> {
    await this.deps.store.appendTimeline(entries);
  }

  async get(id: string): Promise<Incident> {
    const inc = await this.deps.store.get(id);
    if (!inc) throw new NotFoundError("incident", id);
    return inc;
  }

  /** Alerts firing now or changed since `since`, with their incidents: to rebuild notification state at start. */
  recentAlerts(since: number): Promise<{ alert: StoredAlert; incident: Incident }[]> {
    return this.deps.store.recentAlerts(since);
  }

  getAlert(fingerprint: string): Promise<StoredAlert | undefined> {
    return this.deps.store.getAlert(fingerprint);
  }

  list(filter: IncidentFilter): Promise<Incident[]> {
    return this.deps.store.list(filter);
  }

  async timeline(id: string): Promise<StoredTimelineEntry[]> {
    await this.get(id);
    return this.deps.store.timeline(id);
  }

  async alerts(id: string): Promise<StoredAlert[]> {
    await this.get(id);
    return this.deps.store.alertsOf(id);
  }
}
