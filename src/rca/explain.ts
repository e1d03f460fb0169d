import type { MetricEvidence, RcaResult, RootCauseCandidate } from "./types.js";

/** Candidates described in an explanation. */
export const DEFAULT_EXPLAIN_CANDIDATES = 3;
/** Metrics listed in the "order in which metrics moved" line. */
export const DEFAULT_EXPLAIN_TIMELINE_METRICS = 10;

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

function offset(t: number | undefined, onset: number): string {
  if (t === undefined || !Number.isFinite(t) || !Number.isFinite(onset)) return "";
  const d = Math.round(t - onset);
  return d >= 0 ? `+${d}s` : `${d}s`;
}

/** One line for one metric: what moved, how far, when. */
export function describeEvidence(e: MetricEvidence, onsetTime: number): string {
  const verb = e.direction === "up" ? "rose" : "fell";
  const when = e.onsetTime !== undefined ? ` from ${offset(e.onsetTime, onsetTime)}` : "";
  return (
    `${e.metric} ${verb} to ${fmt(e.peak.value)} (normal median ${fmt(e.baseline.median)}, ` +
    `${fmt(e.score)} IQRs away)${when}`
  );
}

function describeCandidate(c: RootCauseCandidate, rank: number, onsetTime: number): string[] {
  const head =
    `${rank}. ${c.service}${c.kind ? ` (${c.kind})` : ""}: score ${fmt(c.score)}, ` +
    `confidence ${Math.round(c.confidence * 100)}%`;
  const lines = [head];
  for (const e of c.evidence) lines.push(`   - ${describeEvidence(e, onsetTime)}`);
  for (const note of c.adjustments.notes) lines.push(`   * ${note}`);
  return lines;
}

/**
 * Human-readable explanation of a ranking: the onset, the top candidates with the metrics that moved
 * (how far, in normal-period IQRs) and the order in which metrics left their normal band.
 */
export function explainRanking(result: RcaResult, maxCandidates = DEFAULT_EXPLAIN_CANDIDATES): string {
  const o = result.onset;
  const lines: string[] = [
    `Onset ${o.estimated ? "estimated" : "given"} at t=${o.time}` +
      (o.estimated ? ` (change strength ${fmt(o.strength)})` : ""),
  ];
  if (result.candidates.length === 0) {
    lines.push("No metric data after the onset: no candidates.");
    return lines.join("\n");
  }
  lines.push("Most likely root causes:");
  result.candidates
    .slice(0, maxCandidates)
    .forEach((c, i) => lines.push(...describeCandidate(c, i + 1, o.time)));
  if (result.timeline.length > 0) {
    const order = result.timeline
      .slice(0, DEFAULT_EXPLAIN_TIMELINE_METRICS)
      .map((e) => `${e.metric} ${offset(e.onsetTime, o.time)}`)
      .join(", ");
    lines.push(`Order in which metrics moved: ${order}`);
  } else {
    lines.push("No metric moved beyond its normal band.");
  }
  return lines.join("\n");
}
