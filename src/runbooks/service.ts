import type { Clock, Logger } from "../core/index.js";
import { NotFoundError, ValidationError } from "../core/index.js";
import type {
  Incident,
  IncidentStatus,
  StoredAlert,
  StoredTimelineEntry,
  TimelineEntry,
} from "../incidents/index.js";
import type { RunbookExecutor } from "./executor.js";
import { renderString } from "./expr.js";
import { draftRunbook, incidentSignature, rankRunbooks, type Suggestion } from "./learning.js";
import type { LoadedRunbook } from "./load.js";
import { matchesAll } from "./matchers.js";
import type { RunbookMetrics } from "./metrics.js";
import type { Execution, ExecutionStore } from "./model.js";
import type { Trigger } from "./schema.js";

/** How often verification re-checks whether the incident's signal cleared (ms). */
export const VERIFY_POLL_MS = 5_000;
/** Verification deadline for executions tied to an incident but not started by a trigger (ms). */
export const DEFAULT_VERIFY_DEADLINE_MS = 5 * 60_000;
/** Past incidents read when drafting a runbook. */
export const DRAFT_HISTORY_LIMIT = 200;
/** Outcomes read when ranking suggestions. */
export const SUGGEST_OUTCOME_LIMIT = 5_000;

/** The slice of IncidentService the runbook service uses. */
export interface IncidentsPort {
  get(id: string): Promise<Incident>;
  alerts(id: string): Promise<StoredAlert[]>;
  timeline(id: string): Promise<StoredTimelineEntry[]>;
  list(filter: { limit: number }): Promise<Incident[]>;
  record(entries: readonly TimelineEntry[]): Promise<void>;
}

export interface RunbookServiceDeps {
  executor: RunbookExecutor;
  store: ExecutionStore;
  library: Map<string, LoadedRunbook>;
  incidents?: IncidentsPort;
  clock: Clock;
  logger: Logger;
  /** Run triggered executions in shadow mode (record only). */
  shadow: boolean;
  notify?: (event: { kind: string; message: string; executionId: string | null }) => void;
  sleep?: (ms: number) => Promise<void>;
  metrics?: RunbookMetrics;
  /** Every judged outcome of a live execution tied to an incident (self-healing keeps its books with it). */
  onOutcome?: (executionId: string, success: boolean) => void;
}

/** A runbook whose trigger matched an incident, with the params its trigger rendered. */
export interface RunbookMatch {
  loaded: LoadedRunbook;
  trigger: Trigger;
  params: Record<string, string>;
  /** The labels the trigger was matched against. */
  labels: Record<string, string>;
}

const CLEARED: readonly IncidentStatus[] = ["mitigated", "resolved", "closed"];

/**
 * Library, triggers, verification and learning around the executor: incidents in, guarded executions
 * out, and a record of which runbook fixed which signature.
 */
export class RunbookService {
  private readonly verifying = new Set<Promise<unknown>>();
  private readonly deadlines = new Map<string, number>();
  private closed = false;
  private readonly wake = new AbortController();

  constructor(private readonly deps: RunbookServiceDeps) {}

  library(): LoadedRunbook[] {
    return [...this.deps.library.values()].sort((a, b) => a.runbook.name.localeCompare(b.runbook.name));
  }

  runbook(name: string): LoadedRunbook {
    const r = this.deps.library.get(name);
    if (!r) throw new NotFoundError("runbook", name);
    return r;
  }

  /**
   * Runbooks whose trigger matches the incident's labels (plus `extra`, such as the ranked root cause)
   * with enough confidence, highest trigger priority first, with their rendered params.
   */
  async matches(
    incident: Incident,
    confidence: number,
    extra: Record<string, string> = {},
  ): Promise<RunbookMatch[]> {
    const labels = { ...(await this.labelsOf(incident)), ...extra };
    const out: RunbookMatch[] = [];
    for (const loaded of this.library()) {
      const trig = loaded.runbook.triggers.find(
        (t) => confidence >= t.min_confidence && matchesAll(t.matchers, labels),
      );
      if (!trig) continue;
      const scope = { incident: { id: incident.id, labels } };
      const params: Record<string, string> = {};
      for (const [k, t] of Object.entries(trig.params)) params[k] = renderString(t, scope);
      out.push({ loaded, trigger: trig, params, labels });
    }
    return out.sort((a, b) => b.trigger.priority - a.trigger.priority);
  }

  /** Starts a matched runbook for its incident through the executor's guards (throws when refused). */
  startMatch(
    incident: Incident,
    m: RunbookMatch,
    confidence: number,
    actor = `policy:${m.loaded.runbook.name}`,
  ): Promise<Execution> {
    return this.startNamed({
      runbook: m.loaded.runbook.name,
      params: m.params,
      incident: { id: incident.id, labels: m.labels },
      actor,
      reason: `trigger matched incident ${incident.id} (confidence ${confidence.toFixed(2)})`,
      verifyDeadlineMs: m.trigger.verify.deadline,
    });
  }

  /**
   * Starts a library runbook by name through the executor's guards (throws when refused); tied to an
   * incident, a successful run is then verified against the incident's signal.
   */
  async startNamed(req: {
    runbook: string;
    params: Record<string, string>;
    incident?: { id: string; labels?: Record<string, string> };
    actor: string;
    reason: string;
    shadow?: boolean;
    verifyDeadlineMs?: number;
  }): Promise<Execution> {
    const { runbook, baseDir } = this.runbook(req.runbook);
    const incident = req.incident
      ? {
          id: req.incident.id,
          labels:
            req.incident.labels ??
            (this.deps.incidents ? await this.labelsOf(await this.deps.incidents.get(req.incident.id)) : {}),
        }
      : undefined;
    const e = await this.deps.executor.start({
      runbook,
      baseDir,
      params: req.params,
      ...(incident ? { incident } : {}),
      actor: req.actor,
      reason: req.reason,
      mode: this.deps.shadow || req.shadow ? "shadow" : "live",
    });
    if (incident) {
      this.deadlines.set(e.id, req.verifyDeadlineMs ?? DEFAULT_VERIFY_DEADLINE_MS);
      await this.timeline(incident.id, `runbook ${runbook.name} started (${e.mode}) as ${e.id}`, {
        executionId: e.id,
      });
    }
    return e;
  }

  /**
   * An incident whose root cause is ranked: starts every runbook whose trigger matches the incident's
   * labels with enough confidence. Refusals (guards, kill switch) are audited by the executor.
   */
  async onIncident(
    incident: Incident,
    confidence: number,
    extra: Record<string, string> = {},
  ): Promise<Execution[]> {
    const started: Execution[] = [];
    for (const m of await this.matches(incident, confidence, extra)) {
      try {
        started.push(await this.startMatch(incident, m, confidence));
      } catch (err) {
        this.deps.logger.info(
          { err: (err as Error).message, runbook: m.loaded.runbook.name, incident: incident.id },
          "trigger refused",
        );
      }
    }
    return started;
  }

  /** What triggers and templates see as incident.labels: the labels all its firing alerts share, and its own. */
  async labelsOf(incident: Incident): Promise<Record<string, string>> {
    const alerts = this.deps.incidents
      ? (await this.deps.incidents.alerts(incident.id)).filter((a) => a.status === "firing")
      : [];
    const common: Record<string, string> = { ...(alerts[0]?.labels ?? {}) };
    for (const a of alerts.slice(1))
      for (const [k, v] of Object.entries(common)) if (a.labels[k] !== v) delete common[k];
    return { ...common, ...incident.labels };
  }

  /** The executor's onFinished hook: verify remediations tied to incidents, record outcomes. */
  finished(e: Execution): void {
    if (!e.incidentId || e.mode !== "live" || !this.deps.incidents) return;
    if (e.status === "rolled_back" && e.error?.startsWith("verification failed")) return;
    const p = (
      e.status === "succeeded"
        ? this.verify(e)
        : this.recordOutcome(e, false, `execution ${e.status}: ${e.error ?? ""}`)
    )
      .catch((err: unknown) => this.deps.logger.error({ err, execution: e.id }, "verification failed to run"))
      .finally(() => this.verifying.delete(p));
    this.verifying.add(p);
  }

  /** Stops verifications in progress without judging them (they are not rolled back). */
  async close(): Promise<void> {
    this.closed = true;
    this.wake.abort();
    await this.idle();
  }

  /** Resolves when no verification is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.verifying.size) await Promise.all([...this.verifying]);
  }

  private async signalCleared(incidentId: string): Promise<boolean> {
    const inc = await (this.deps.incidents as IncidentsPort).get(incidentId);
    if (CLEARED.includes(inc.status)) return true;
    const alerts = await (this.deps.incidents as IncidentsPort).alerts(incidentId);
    return alerts.length > 0 && alerts.every((a) => a.status === "resolved");
  }

  /**
   * After a remediation: the incident's signal must clear within the deadline, else the execution is
   * rolled back and a human is paged (timeline entry + notification).
   */
  async verify(e: Execution): Promise<boolean> {
    const deadline = this.deps.clock.now() + (this.deadlines.get(e.id) ?? DEFAULT_VERIFY_DEADLINE_MS);
    this.deadlines.delete(e.id);
    const signal = this.wake.signal;
    const sleep =
      this.deps.sleep ??
      ((ms: number) =>
        new Promise<void>((r) => {
          const done = () => {
            clearTimeout(t);
            signal.removeEventListener("abort", done);
            r();
          };
          const t = setTimeout(done, ms);
          signal.addEventListener("abort", done, { once: true });
        }));
    const incidentId = e.incidentId as string;
    for (;;) {
      if (await this.signalCleared(incidentId)) {
        await this.deps.store.appendAudit([
          {
            executionId: e.id,
            at: this.deps.clock.now(),
            actor: "system",
            event: "verify.cleared",
            stepId: null,
            attempt: null,
            data: { incident: incidentId },
          },
        ]);
        await this.recordOutcome(e, true, `runbook ${e.runbook.name} resolved the signal`);
        return true;
      }
      if (this.closed) return false;
      if (this.deps.clock.now() >= deadline) break;
      await sleep(Math.min(VERIFY_POLL_MS, Math.max(0, deadline - this.deps.clock.now())));
    }
    await this.deps.store.appendAudit([
      {
        executionId: e.id,
        at: this.deps.clock.now(),
        actor: "system",
        event: "verify.failed",
        stepId: null,
        attempt: null,
        data: { incident: incidentId },
      },
    ]);
    const reason = `verification failed: the signal of incident ${incidentId} did not clear`;
    let status = "rolled_back";
    try {
      status = (await this.deps.executor.revert(e.id, "system:verify", reason)).status;
    } catch (err) {
      status = `not rolled back (${(err as Error).message})`;
    }
    await this.recordOutcome(e, false, `${reason}; execution ${status}; escalating`);
    await this.deps.store.appendAudit([
      {
        executionId: e.id,
        at: this.deps.clock.now(),
        actor: "system",
        event: "escalated",
        stepId: null,
        attempt: null,
        data: { incident: incidentId, status },
      },
    ]);
    this.deps.notify?.({
      kind: "remediation_failed",
      message: `${reason}; execution ${e.id} ${status}. A human is needed.`,
      executionId: e.id,
    });
    return false;
  }

  private async recordOutcome(e: Execution, success: boolean, text: string): Promise<void> {
    const inc = this.deps.incidents as IncidentsPort;
    const incidentId = e.incidentId as string;
    const signature = incidentSignature(await inc.get(incidentId), await inc.alerts(incidentId));
    this.deps.metrics?.remediation(success);
    this.deps.onOutcome?.(e.id, success);
    await this.deps.store.recordOutcome({
      signature,
      runbook: e.runbook.name,
      incidentId,
      executionId: e.id,
      success,
      at: this.deps.clock.now(),
    });
    await this.timeline(incidentId, text, { executionId: e.id, runbook: e.runbook.name, success });
  }

  private async timeline(incidentId: string, text: string, data: Record<string, unknown>): Promise<void> {
    await this.deps.incidents?.record([
      {
        incidentId,
        at: this.deps.clock.now(),
        kind: "note",
        actor: "system:runbooks",
        data: { text, source: "runbooks", ...data },
      },
    ]);
  }

  /** Runbooks ranked by past success on incidents similar to this one. */
  async suggest(incidentId: string): Promise<{ signature: string; suggestions: Suggestion[] }> {
    const inc = this.incidentsOrThrow();
    const signature = incidentSignature(await inc.get(incidentId), await inc.alerts(incidentId));
    return {
      signature,
      suggestions: rankRunbooks(signature, await this.deps.store.outcomes(SUGGEST_OUTCOME_LIMIT)),
    };
  }

  /** A draft runbook (YAML) from operator notes on past incidents with this signature. */
  async draft(signature: string): Promise<{ yaml: string; incidents: number }> {
    const inc = this.incidentsOrThrow();
    const history: { incidentId: string; timeline: StoredTimelineEntry[] }[] = [];
    for (const i of await inc.list({ limit: DRAFT_HISTORY_LIMIT })) {
      if (incidentSignature(i, await inc.alerts(i.id)) !== signature) continue;
      history.push({ incidentId: i.id, timeline: await inc.timeline(i.id) });
    }
    if (!history.length) throw new NotFoundError("incidents with signature", signature);
    return { yaml: draftRunbook(signature, history), incidents: history.length };
  }

  incident(id: string): Promise<Incident> {
    return this.incidentsOrThrow().get(id);
  }

  private incidentsOrThrow(): IncidentsPort {
    if (!this.deps.incidents) throw new ValidationError("no incident service is wired");
    return this.deps.incidents;
  }
}
