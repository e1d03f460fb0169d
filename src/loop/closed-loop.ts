import type { Clock, Logger } from "../core/index.js";
import type { Incident, TimelineEntry } from "../incidents/index.js";
import type { Series } from "../ingest/index.js";
import { estimateOnset, rankRootCauses, type RcaResult, type RootCauseCandidate, type ServiceGraph } from "../rca/index.js";
import type { RunbookMatch } from "../runbooks/index.js";
import type { LoopConfig } from "./config.js";
import { frameFromSeries } from "./live-frame.js";

/** A change a deploy tool or supervisor made to a service (config push, deploy, scale). */
export interface ServiceChange {
  service: string;
  kind: string;
  at: number;
}

export interface Diagnosis {
  incidentId: string;
  at: number;
  /** Best candidate first; empty when no metric moved. */
  candidates: RootCauseCandidate[];
  onset: number;
  /** The change that made the top candidate a suspect, if any. */
  change?: ServiceChange;
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
  | { status: "started"; executionId: string }
  | { status: "held"; reason: string; message: string };

export type LoopEvent =
  | { type: "diagnosed"; diagnosis: Diagnosis }
  | { type: "remediation"; incidentId: string; at: number; runbook: string; result: RemediationResult }
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
): { candidates: RootCauseCandidate[]; change?: ServiceChange } {
  const recent = new Map<string, ServiceChange>();
  for (const c of changes) if (c.at <= onsetMs + 1_000 && c.at >= onsetMs - windowMs) recent.set(c.service, c);
  if (recent.size === 0) return { candidates: result.candidates };
  const candidates = result.candidates
    .map((c) => {
      const ch = recent.get(c.service);
      if (!ch) return c;
      return {
        ...c,
        score: c.score * boost,
        adjustments: {
          ...c.adjustments,
          notes: [...c.adjustments.notes, `${ch.kind} change ${((onsetMs - ch.at) / 1000).toFixed(0)} s before the onset`],
        },
      };
    })
    .sort((a, b) => b.score - a.score);
  const total = candidates.reduce((s, c) => s + Math.max(0, c.score), 0);
  for (const c of candidates) c.confidence = total > 0 ? Math.max(0, c.score) / total : 0;
  const top = candidates[0];
  const change = top ? recent.get(top.service) : undefined;
  return change ? { candidates, change } : { candidates };
}

/**
 * The closed loop around an incident: when one opens, rank its root cause from the live metrics and the
 * service graph, record the ranking on its timeline, and hand the best-matching runbook (chosen by the
 * incident's labels plus the ranked cause) to remediation, which applies the healing and executor guards.
 */
export class ClosedLoop {
  private readonly diagnoses = new Map<string, Diagnosis>();
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
  private readonly seen = new Set<string>();

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
      const t = setTimeout(r, ms);
      signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
    });
  }

  /** Ranks the cause of an incident from the metrics around its detection. */
  diagnose(incident: Incident): Diagnosis {
    const { config, clock } = this.deps;
    const started = performance.now();
    const now = clock.now();
    const from = incident.detectedAt - config.lookback;
    const frame = frameFromSeries(this.deps.series(), { from, to: now });
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
    const rca = rankRootCauses(frame, {
      graph: this.deps.graph(),
      ...(onsetSec !== undefined ? { onsetTime: onsetSec } : {}),
    });
    const onsetMs = onsetSec !== undefined ? onsetSec * 1000 : incident.detectedAt;
    const adjusted = applyChanges(
      rca,
      this.deps.changes?.(onsetMs - config.change_window) ?? [],
      onsetMs,
      config.change_window,
      config.change_boost,
    );
    const d: Diagnosis = {
      incidentId: incident.id,
      at: clock.now(),
      candidates: adjusted.candidates,
      onset: onsetMs,
      ...(adjusted.change ? { change: adjusted.change } : {}),
      ms: performance.now() - started,
    };
    this.diagnoses.set(incident.id, d);
    return d;
  }

  private async handle(incidentId: string): Promise<void> {
    const { config, clock } = this.deps;
    await this.sleep(config.diagnose_delay);
    if (this.closed) return;
    const incident = await this.deps.getIncident(incidentId);
    if (incident.status === "resolved" || incident.status === "closed") return;
    const d = this.diagnose(incident);
    const top = d.candidates[0];
    await this.deps.record([
      {
        incidentId,
        at: d.at,
        kind: "diagnosed",
        actor: "system:rca",
        data: {
          service: top?.service ?? null,
          kind: top?.kind ?? null,
          metric: top?.metric ?? null,
          confidence: top ? Number(top.confidence.toFixed(3)) : 0,
          onset: new Date(d.onset).toISOString(),
          ...(d.change ? { change: d.change } : {}),
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
    this.emit({ type: "diagnosed", diagnosis: d });
    if (!top || !config.remediate) return;
    const extra: Record<string, string> = {
      rca_service: top.service,
      rca_kind: top.kind ?? "other",
      rca_metric: top.metric ?? "",
      recent_change: d.change?.kind ?? "none",
    };
    const matches = await this.deps.matches(incident, top.confidence, extra);
    const m = matches[0];
    if (!m) {
      this.emit({ type: "no_runbook", incidentId, at: clock.now(), labels: extra });
      return;
    }
    const result = await this.deps.remediate({
      runbook: m.loaded.runbook.name,
      params: m.params,
      target: top.service,
      reason: `ranked root cause ${top.service} (${top.kind ?? "other"}, confidence ${top.confidence.toFixed(2)})`,
      incidentId,
    });
    this.emit({ type: "remediation", incidentId, at: clock.now(), runbook: m.loaded.runbook.name, result });
  }
}
