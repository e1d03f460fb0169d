import { graphAdjustments } from "./graph.js";
import type { GraphOptions } from "./graph.js";
import { historyPrior, incidentSignature, DEFAULT_HISTORY_WEIGHT } from "./history.js";
import type { HistoryOptions } from "./history.js";
import { estimateOnset } from "./onset.js";
import type { OnsetOptions } from "./onset.js";
import { scoreMetric } from "./scoring.js";
import type { ScoringOptions } from "./scoring.js";
import type {
  HistoryRecord,
  MetricEvidence,
  MetricFrame,
  OnsetEstimate,
  RcaResult,
  RootCauseCandidate,
  ServiceGraph,
} from "./types.js";

/** Candidates returned (services, best first). */
export const DEFAULT_MAX_CANDIDATES = 10;
/** Moved metrics listed as evidence per candidate. */
export const DEFAULT_MAX_EVIDENCE = 5;

export interface RankOptions {
  /** Onset time (same unit as `frame.times`); estimated from the metrics when absent. */
  onsetTime?: number;
  graph?: ServiceGraph;
  history?: readonly HistoryRecord[];
  historyWeight?: number;
  maxCandidates?: number;
  maxEvidence?: number;
  onset?: OnsetOptions;
  scoring?: ScoringOptions;
  graphOptions?: GraphOptions;
  historyOptions?: HistoryOptions;
}

function indexAtOrAfter(times: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function timeAt(times: ArrayLike<number>, i: number): number {
  if (times.length === 0) return Number.NaN;
  return times[Math.max(0, Math.min(times.length - 1, i))]!;
}

/**
 * Ranks candidate root-cause services for an incident in `frame`: estimate the onset (unless given),
 * score every metric by how far it left its normal-period median in IQRs (BARO), take each service's
 * strongest metric, demote callers whose callees also moved (graph), boost services confirmed in similar
 * past incidents (history), and attach the evidence. Pure.
 */
export function rankRootCauses(frame: MetricFrame, opts: RankOptions = {}): RcaResult {
  const times = frame.times;
  let onset: OnsetEstimate;
  if (opts.onsetTime !== undefined) {
    const index = indexAtOrAfter(times, opts.onsetTime);
    onset = { index, time: timeAt(times, index), estimated: false, strength: Number.NaN };
  } else {
    const est = estimateOnset(
      frame.series.map((s) => s.values),
      opts.onset,
    );
    onset = { index: est.index, time: timeAt(times, est.index), estimated: true, strength: est.strength };
  }

  const evidence: MetricEvidence[] = [];
  for (const s of frame.series) {
    const m = scoreMetric(s.values, onset.index, opts.scoring);
    if (m.peakIndex < 0 || !Number.isFinite(m.score)) continue;
    evidence.push({
      metric: s.name,
      service: s.service,
      kind: s.kind,
      score: m.score,
      direction: m.direction,
      baseline: { median: m.median, iqr: m.iqr, scale: m.scale },
      peak: { time: timeAt(times, m.peakIndex), value: s.values[m.peakIndex]! },
      onsetTime: m.onsetIndex >= 0 ? timeAt(times, m.onsetIndex) : undefined,
      moved: m.onsetIndex >= 0,
    });
  }

  const byService = new Map<string, MetricEvidence[]>();
  for (const e of evidence) {
    const list = byService.get(e.service) ?? [];
    list.push(e);
    byService.set(e.service, list);
  }
  for (const list of byService.values()) list.sort((a, b) => b.score - a.score);

  const movedServices = new Set<string>();
  for (const [svc, list] of byService) if (list.some((e) => e.moved)) movedServices.add(svc);
  const graphAdj = graphAdjustments(movedServices, opts.graph, opts.graphOptions);
  const signature = incidentSignature(evidence, opts.historyOptions?.signatureSize);
  const prior =
    opts.history && opts.history.length > 0
      ? historyPrior(signature, opts.history, opts.historyOptions)
      : { probability: new Map<string, number>(), matches: [] };
  const historyWeight = opts.historyWeight ?? DEFAULT_HISTORY_WEIGHT;
  const maxEvidence = opts.maxEvidence ?? DEFAULT_MAX_EVIDENCE;

  const candidates: RootCauseCandidate[] = [];
  for (const [service, list] of byService) {
    const best = list[0]!;
    const notes: string[] = [];
    const g = graphAdj.get(service);
    const graphFactor = g?.factor ?? 1;
    if (g && g.factor < 1) {
      const who = g.explainedBy
        .map((x) => `${x.service} (${Math.round(x.share * 100)}% of calls)`)
        .join(", ");
      notes.push(`downstream ${who} also moved: score x${graphFactor.toFixed(2)}`);
    }
    const p = prior.probability.get(service) ?? 0;
    const historyFactor = 1 + historyWeight * p;
    if (p > 0) {
      const k = prior.matches.filter((m) => m.record.confirmedService === service).length;
      notes.push(
        `confirmed cause in ${k} of ${prior.matches.length} similar past incidents: score x${historyFactor.toFixed(2)}`,
      );
    }
    const moved = list.filter((e) => e.moved).slice(0, maxEvidence);
    candidates.push({
      service,
      metric: best.metric,
      kind: best.kind,
      score: best.score * graphFactor * historyFactor,
      confidence: 0,
      evidence: moved.length > 0 ? moved : [best],
      adjustments: { baseScore: best.score, graphFactor, historyFactor, notes },
    });
  }
  // Ties (e.g. nothing moved anywhere) fall back to name order so the output is deterministic.
  candidates.sort((a, b) => b.score - a.score || a.service.localeCompare(b.service));
  let total = 0;
  for (const c of candidates) total += c.score;
  for (const c of candidates) c.confidence = total > 0 ? c.score / total : 0;

  const timeline = evidence
    .filter((e) => e.moved)
    .sort((a, b) => (a.onsetTime ?? Infinity) - (b.onsetTime ?? Infinity) || b.score - a.score);
  return {
    onset,
    candidates: candidates.slice(0, opts.maxCandidates ?? DEFAULT_MAX_CANDIDATES),
    timeline,
    signature,
  };
}
