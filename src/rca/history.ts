import type { HistoryRecord, MetricEvidence } from "./types.js";

/** Metrics kept in a signature (the strongest moved ones): enough to tell incidents apart, few enough to match. */
export const DEFAULT_SIGNATURE_SIZE = 8;
/** Jaccard similarity from which a past incident counts as similar. */
export const DEFAULT_MIN_SIMILARITY = 0.3;
/**
 * Pseudo-count of similar incidents with some other cause: one lone match gives a prior of 1/(1+1) = 0.5,
 * not 1, so a single past incident cannot dominate the ranking.
 */
export const DEFAULT_HISTORY_PSEUDO_COUNT = 1;
/** A service confirmed in every similar past incident has its score multiplied by 1 + this. */
export const DEFAULT_HISTORY_WEIGHT = 1;

export interface HistoryOptions {
  signatureSize?: number;
  minSimilarity?: number;
  pseudoCount?: number;
}

/**
 * Signature of an incident: `service:kind` of its strongest moved metrics, sorted and unique. Coarse on
 * purpose, so that a CPU hog in carts matches the next CPU hog in carts whichever replica's metric moved.
 */
export function incidentSignature(
  evidence: readonly MetricEvidence[],
  size = DEFAULT_SIGNATURE_SIZE,
): string[] {
  const moved = evidence.filter((e) => e.moved).sort((a, b) => b.score - a.score);
  const out = new Set<string>();
  for (const e of moved) {
    if (out.size >= size) break;
    out.add(`${e.service}:${e.kind}`);
  }
  return [...out].sort();
}

export function jaccard(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 && b.length === 0) return 0;
  const sa = new Set(a);
  const sb = new Set(b);
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  return inter / (sa.size + sb.size - inter);
}

export interface HistoryPrior {
  /** Per service: similarity-weighted share of similar past incidents confirmed as that service. */
  probability: Map<string, number>;
  /** Similar past incidents found, with their similarity. */
  matches: { record: HistoryRecord; similarity: number }[];
}

/**
 * Prior over services from past incidents: among past incidents similar to this signature, how often
 * each service was the confirmed cause (weighted by similarity, shrunk by a pseudo-count towards "none").
 * The frequencies are outcomes, so the prior is calibrated by what was actually confirmed.
 */
export function historyPrior(
  signature: readonly string[],
  records: readonly HistoryRecord[],
  opts: HistoryOptions = {},
): HistoryPrior {
  const minSim = opts.minSimilarity ?? DEFAULT_MIN_SIMILARITY;
  const pseudo = opts.pseudoCount ?? DEFAULT_HISTORY_PSEUDO_COUNT;
  const matches: { record: HistoryRecord; similarity: number }[] = [];
  const weight = new Map<string, number>();
  let total = 0;
  for (const record of records) {
    const similarity = jaccard(signature, record.signature);
    if (similarity < minSim) continue;
    matches.push({ record, similarity });
    weight.set(record.confirmedService, (weight.get(record.confirmedService) ?? 0) + similarity);
    total += similarity;
  }
  const probability = new Map<string, number>();
  for (const [svc, w] of weight) probability.set(svc, w / (total + pseudo));
  matches.sort((a, b) => b.similarity - a.similarity);
  return { probability, matches };
}
