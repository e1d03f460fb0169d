import { matchesAll, type Clock, type Logger } from "../core/index.js";
import type { Incident, TimelineEntry } from "../incidents/index.js";
import type { Series } from "../ingest/index.js";
import {
  estimateOnset,
  rankRootCauses,
  type RcaResult,
  type RootCauseCandidate,
  type ServiceGraph,
} from "../rca/index.js";
import type { RunbookMatch } from "../runbooks/index.js";
import type { LoopConfig } from "./config.js";
import { frameFromSeries } from "./live-frame.js";

/** A change a deploy tool or supervisor made to a service (config push, deploy, scale). */
export interface ServiceChange {
  service: string;
  kind: string;
  at: number;
}

/** A service with failing probes now (the healing monitor's view), and which probes fail. */
export interface UnhealthyService {
  service: string;
  failing: string[];
}

export interface Diagnosis {
  incidentId: string;
  at: number;
  /** Best candidate first; empty when no metric moved. */
  candidates: RootCauseCandidate[];
  onset: number;
  /** Every candidate's change within the window before the detection, by service. */
  changes: Map<string, ServiceChange>;
  /** Services failing their probes when the ranking was made. */
  unhealthy: UnhealthyService[];
  /** 1 for the first ranking of an incident; later ones follow a remediation that did not clear it. */
  attempt: number;
  ms: number;
}

/** What the loop asks of remediation (app.ts: the healing controller, which calls the runbook executor). */
export interface RemediationRequest {
  runbook: string;
  params: Record<string, string>;
  target: string;
  reason: string;
  incidentId: string;
}
export type RemediationResult =
  { status: "started"; executionId: string } | { status: "held"; reason: string; message: string };

const OPEN: readonly string[] = ["triggered", "acknowledged", "mitigated"];
const TERMINAL: readonly string[] = ["succeeded", "failed", "rolled_back", "aborted", "interrupted"];
/** How often the loop looks at a running remediation and at the incident afterwards (ms). */
const RECHECK_POLL_MS = 500;
/** Longest the loop waits for one remediation to finish before judging the incident anyway (ms). */
const EXECUTION_WAIT_MS = 5 * 60_000;

export type LoopEvent =
  | { type: "diagnosed"; diagnosis: Diagnosis }
  | {
      type: "remediation";
      incidentId: string;
      at: number;
      runbook: string;
      target: string;
      attempt: number;
      result: RemediationResult;
    }
  | { type: "no_runbook"; incidentId: string; at: number; labels: Record<string, string> };

export interface ClosedLoopDeps {
  config: LoopConfig;
  clock: Clock;
  logger: Logger;
  series: () => Iterable<Series>;
  graph: () => ServiceGraph;
  record: (entries: TimelineEntry[]) => Promise<void>;
  getIncident: (id: string) => Promise<Incident>;
  matches: (incident: Incident, confidence: number, extra: Record<string, string>) => Promise<RunbookMatch[]>;
  remediate: (req: RemediationRequest) => Promise<RemediationResult>;
  /** Changes made to services recently (newest last); none when no change source is attached. */
  changes?: (since: number) => ServiceChange[];
  /** Services failing their health probes now; none when nothing probes. */
  health?: () => UnhealthyService[];
  /** Pages a human when the loop runs out of remediations for an incident that is still open. */
  escalate?: (e: { kind: string; message: string; incidentId: string }) => void;
  /** Status of an execution ("running", "succeeded", ...), to know when a remediation has finished. */
  executionStatus?: (id: string) => Promise<string | undefined>;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Boosts candidates changed shortly before the onset: a config push right before trouble is the first
 * suspect of any on-call engineer. Pure.
 */
export function applyChanges(
  result: RcaResult,
  changes: readonly ServiceChange[],
  onsetMs: number,
  windowMs: number,
  boost: number,
  /** Latest time a change can have caused this: the detection (an estimated onset can be seconds early). */
  latestMs: number = onsetMs,
): { candidates: RootCauseCandidate[]; recent: Map<string, ServiceChange> } {
  const recent = new Map<string, ServiceChange>();
  for (const c of changes) if (c.at <= latestMs && c.at >= onsetMs - windowMs) recent.set(c.service, c);
  if (recent.size === 0) return { candidates: result.candidates, recent };
  const candidates = result.candidates
    .map((c) => {
      const ch = recent.get(c.service);
      if (!ch) return c;
      return {
        ...c,
        score: c.score * boost,
        adjustments: {
          ...c.adjustments,
          notes: [
            ...c.adjustments.notes,
            ch.at <= onsetMs
              ? `${ch.kind} change ${((onsetMs - ch.at) / 1000).toFixed(0)} s before the onset`
              : `${ch.kind} change ${((ch.at - onsetMs) / 1000).toFixed(0)} s after the estimated onset, before the detection`,
          ],
        },
      };
    })
    .sort((a, b) => b.score - a.score);
  const total = candidates.reduce((s, c) => s + Math.max(0, c.score), 0);
  for (const c of candidates) c.confidence = total > 0 ? Math.max(0, c.score) / total : 0;
  return { candidates, recent };
}

/**
 * Caps each candidate's metric score before the graph and history factors. A metric that sat still (an
 * error counter at zero) scores enormous on its first move, whatever the cause; past a point the size
 * of a deviation says more about how quiet the metric was than about where the fault is, and the graph,
 * the probes and recent changes should decide. Pure.
 */
export function capScores(candidates: readonly RootCauseCandidate[], cap: number): RootCauseCandidate[] {
  const out = candidates.map((c) => {
    const a = c.adjustments;
    if (!(a.baseScore > cap)) return c;
    return {
      ...c,
      score: cap * a.graphFactor * a.historyFactor,
      adjustments: { ...a, notes: [...a.notes, `metric score ${a.baseScore.toFixed(0)} capped at ${cap}`] },
    };
  });
  return out.sort((a, b) => b.score - a.score || a.service.localeCompare(b.service));
}

/**
 * Weighs the metric ranking with what the probes say: an unhealthy service none of whose (transitive)
 * callees is unhealthy is where the failure starts (its callers fail because of it), so it is boosted; a
 * service whose probes all pass is damped. A frontier service starts from at least half the best metric
 * score, and one the metrics missed (a dead process exposes none) joins the candidates. Pure.
 */
export function applyHealth(
  candidates: readonly RootCauseCandidate[],
  unhealthy: readonly UnhealthyService[],
  graph: ServiceGraph,
  frontierBoost: number,
  healthyFactor: number,
): RootCauseCandidate[] {
  if (unhealthy.length === 0) return [...candidates];
  const bad = new Map(unhealthy.map((u) => [u.service, u.failing]));
  const callees = new Map<string, Set<string>>();
  for (const e of graph.edges) {
    if (e.caller === e.callee) continue;
    const set = callees.get(e.caller) ?? new Set<string>();
    set.add(e.callee);
    callees.set(e.caller, set);
  }
  const badBelow = (svc: string): string | undefined => {
    const seen = new Set<string>([svc]);
    const queue = [...(callees.get(svc) ?? [])];
    while (queue.length) {
      const c = queue.shift() as string;
      if (seen.has(c)) continue;
      seen.add(c);
      if (bad.has(c)) return c;
      queue.push(...(callees.get(c) ?? []));
    }
    return undefined;
  };
  const top = candidates.reduce((m, c) => Math.max(m, c.score), 0);
  const out = candidates.map((c) => ({
    ...c,
    adjustments: { ...c.adjustments, notes: [...c.adjustments.notes] },
  }));
  for (const [service] of bad)
    if (!out.some((c) => c.service === service))
      out.push({
        service,
        score: top > 0 ? top / 2 : 1,
        confidence: 0,
        evidence: [],
        adjustments: {
          baseScore: 0,
          graphFactor: 1,
          historyFactor: 1,
          notes: ["no metric moved (none reported?)"],
        },
      });
  for (const c of out) {
    const failing = bad.get(c.service);
    if (!failing) {
      c.score *= healthyFactor;
      c.adjustments.notes.push(`its probes pass: score x${healthyFactor}`);
      continue;
    }
    const below = badBelow(c.service);
    if (below) c.adjustments.notes.push(`failing ${failing.join(", ")}, but depends on unhealthy ${below}`);
    else {
      // The probes are evidence of their own: a frontier service whose metrics have barely moved yet
      // (seconds after a bad push) still starts from half the best metric score.
      c.score = Math.max(c.score, top / 2) * frontierBoost;
      c.adjustments.notes.push(
        `failing ${failing.join(", ")} with every dependency healthy: score x${frontierBoost}`,
      );
    }
  }
  out.sort((a, b) => b.score - a.score || a.service.localeCompare(b.service));
  const total = out.reduce((t, c) => t + Math.max(0, c.score), 0);
  for (const c of out) c.confidence = total > 0 ? Math.max(0, c.score) / total : 0;
  return out;
}

/**
 * The closed loop around an incident: when one opens, rank its root cause from the live metrics and the
 * service graph, record the ranking on its timeline, and hand the best-matching runbook (chosen by the
 * incident's labels plus the ranked cause) to remediation, which applies the healing and executor guards.
 */
export class ClosedLoop {
  private readonly diagnoses = new Map<string, Diagnosis>();
  /** Incident openings handled (id and reopen count), so a repeated event is not handled twice. */
  private readonly seen = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private readonly listeners = new Set<(e: LoopEvent) => void>();
  private closed = false;
  private readonly wake = new AbortController();

  constructor(private readonly deps: ClosedLoopDeps) {}

  onEvent(listener: (e: LoopEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  diagnosis(incidentId: string): Diagnosis | undefined {
    return this.diagnoses.get(incidentId);
  }

  /** An incident opened or reopened: diagnose it once the delay has passed, then remediate. */
  opened(incident: Incident): void {
    if (!this.deps.config.enabled || this.closed) return;
    const key = `${incident.id}#${incident.reopenCount}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const p = this.handle(incident.id)
      .catch((err: unknown) => this.deps.logger.error({ err, incident: incident.id }, "closed loop failed"))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves when no incident is being handled. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake.abort();
    await this.idle();
  }

  private emit(e: LoopEvent): void {
    for (const l of this.listeners) l(e);
  }

  private sleep(ms: number): Promise<void> {
    if (this.deps.sleep) return this.deps.sleep(ms);
    const signal = this.wake.signal;
    return new Promise((r) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        r();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Ranks the cause of an incident from the metrics around its detection. */
  diagnose(incident: Incident, attempt = 1): Diagnosis {
    const { config, clock } = this.deps;
    const started = performance.now();
    const now = clock.now();
    const from = incident.detectedAt - config.lookback;
    const frame = frameFromSeries(this.deps.series(), {
      from,
      to: now,
      exclude: (l) =>
        (config.include_series.length > 0 && !config.include_series.some((ms) => matchesAll(ms, l))) ||
        config.exclude_series.some((ms) => matchesAll(ms, l)),
    });
    // The onset, estimated from all metrics in the recent part only: a detection comes seconds after the
    // change, and older level shifts (a restart, the start-up) must not be taken for it.
    const searchFrom = (incident.detectedAt - config.onset_search) / 1000;
    let first = 0;
    while (first < frame.times.length && frame.times[first]! < searchFrom) first++;
    const est = estimateOnset(
      frame.series.map((s) => Array.prototype.slice.call(s.values, first) as number[]),
      { windowSamples: config.onset_window },
    );
    const onsetSec = frame.times[Math.min(frame.times.length - 1, first + est.index)];
    const graph = this.deps.graph();
    const rca = rankRootCauses(frame, {
      graph,
      ...(onsetSec !== undefined ? { onsetTime: onsetSec } : {}),
    });
    const onsetMs = onsetSec !== undefined ? onsetSec * 1000 : incident.detectedAt;
    const adjusted = applyChanges(
      { ...rca, candidates: capScores(rca.candidates, config.score_cap) },
      this.deps.changes?.(onsetMs - config.change_window) ?? [],
      onsetMs,
      config.change_window,
      config.change_boost,
      Math.max(onsetMs, incident.detectedAt),
    );
    const unhealthy = this.deps.health?.() ?? [];
    const candidates = applyHealth(
      adjusted.candidates,
      unhealthy,
      graph,
      config.frontier_boost,
      config.healthy_factor,
    );
    const d: Diagnosis = {
      incidentId: incident.id,
      at: clock.now(),
      candidates,
      onset: onsetMs,
      changes: adjusted.recent,
      unhealthy,
      attempt,
      ms: performance.now() - started,
    };
    this.diagnoses.set(incident.id, d);
    return d;
  }

  private async handle(incidentId: string): Promise<void> {
    const { config } = this.deps;
    await this.sleep(config.diagnose_delay);
    const tried = new Set<string>();
    for (let attempt = 1; attempt <= config.max_attempts && !this.closed; attempt++) {
      const incident = await this.deps.getIncident(incidentId);
      if (!OPEN.includes(incident.status)) return;
      const d = this.diagnose(incident, attempt);
      await this.recordDiagnosis(d);
      this.emit({ type: "diagnosed", diagnosis: d });
      if (!config.remediate) return;
      const r = await this.remediateBest(incident, d, tried);
      if (!r) {
        // Nothing automatic was ever tried: the incident pages on its own, there is nothing to give up on.
        if (tried.size) this.giveUp(incidentId, "no remediation left to try");
        return;
      }
      // Give the remediation its time, then look again: still open means the guess was wrong (or not enough).
      // A run that failed or was rolled back changed nothing that could clear the incident: the next cause
      // is tried at once rather than after the recheck time.
      if ("started" in r) {
        const status = await this.waitFinished(r.started);
        if (status !== undefined && status !== "succeeded") continue;
      }
      const until = this.deps.clock.now() + config.recheck_after;
      while (!this.closed && this.deps.clock.now() < until) {
        if (!OPEN.includes((await this.deps.getIncident(incidentId)).status)) return;
        await this.sleep(Math.min(RECHECK_POLL_MS, config.recheck_after));
      }
    }
    if (!this.closed && OPEN.includes((await this.deps.getIncident(incidentId)).status))
      this.giveUp(incidentId, `still open after ${config.max_attempts} remediation(s)`);
  }

  private giveUp(incidentId: string, why: string): void {
    this.deps.escalate?.({
      kind: "loop_exhausted",
      message: `automatic remediation gave up on incident ${incidentId}: ${why}`,
      incidentId,
    });
  }

  private async recordDiagnosis(d: Diagnosis): Promise<void> {
    const top = d.candidates[0];
    await this.deps.record([
      {
        incidentId: d.incidentId,
        at: d.at,
        kind: "diagnosed",
        actor: "system:rca",
        data: {
          service: top?.service ?? null,
          kind: top?.kind ?? null,
          metric: top?.metric ?? null,
          confidence: top ? Number(top.confidence.toFixed(3)) : 0,
          onset: new Date(d.onset).toISOString(),
          attempt: d.attempt,
          ...(top && d.changes.has(top.service) ? { change: d.changes.get(top.service) } : {}),
          unhealthy: d.unhealthy,
          candidates: d.candidates.slice(0, 3).map((c) => ({
            service: c.service,
            kind: c.kind ?? null,
            metric: c.metric ?? null,
            confidence: Number(c.confidence.toFixed(3)),
            notes: c.adjustments.notes,
          })),
        },
      },
    ]);
  }

  /** Starts the runbook for the best eligible candidate not tried yet: started, held, or nothing to try. */
  private async remediateBest(
    incident: Incident,
    d: Diagnosis,
    tried: Set<string>,
  ): Promise<{ started: string } | { held: string } | undefined> {
    const { clock } = this.deps;
    // With probes watching, only a failing service is touched: restarting a healthy one is a guess.
    const bad = new Set(d.unhealthy.map((u) => u.service));
    const eligible = bad.size ? d.candidates.filter((c) => bad.has(c.service)) : d.candidates;
    for (const c of eligible) {
      const extra: Record<string, string> = {
        rca_service: c.service,
        rca_kind: c.kind ?? "other",
        rca_metric: c.metric ?? "",
        recent_change: d.changes.get(c.service)?.kind ?? "none",
      };
      const m = (await this.deps.matches(incident, c.confidence, extra)).find(
        (x) => !tried.has(`${c.service}|${x.loaded.runbook.name}`),
      );
      if (!m) continue;
      tried.add(`${c.service}|${m.loaded.runbook.name}`);
      const result = await this.deps.remediate({
        runbook: m.loaded.runbook.name,
        params: m.params,
        target: c.service,
        reason: `ranked root cause ${c.service} (${c.kind ?? "other"}, confidence ${c.confidence.toFixed(2)}${d.attempt > 1 ? `, attempt ${d.attempt}` : ""})`,
        incidentId: incident.id,
      });
      this.emit({
        type: "remediation",
        incidentId: incident.id,
        at: clock.now(),
        runbook: m.loaded.runbook.name,
        target: c.service,
        attempt: d.attempt,
        result,
      });
      if (result.status === "started") return { started: result.executionId };
      // Held (backoff, breaker, limit): the same remediation may be tried again later.
      tried.delete(`${c.service}|${m.loaded.runbook.name}`);
      return { held: result.message };
    }
    this.emit({
      type: "no_runbook",
      incidentId: incident.id,
      at: clock.now(),
      labels: { attempt: String(d.attempt) },
    });
    return undefined;
  }

  /** The execution's final status; undefined when unknown or still running after the wait. */
  private async waitFinished(executionId: string): Promise<string | undefined> {
    if (!this.deps.executionStatus) return undefined;
    const until = this.deps.clock.now() + EXECUTION_WAIT_MS;
    while (!this.closed && this.deps.clock.now() < until) {
      const st = await this.deps.executionStatus(executionId);
      if (st === undefined || TERMINAL.includes(st)) return st;
      await this.sleep(RECHECK_POLL_MS);
    }
    return undefined;
  }
}
