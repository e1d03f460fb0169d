import { matchesAll, type Labels } from "../core/index.js";
import type { InhibitRule } from "./config.js";

/**
 * Whether a target alert is muted by some firing source alert: the source matches
 * source_matchers, the target matches target_matchers, and both carry equal values for every
 * `equal` label (missing counts as ""). An alert matching both sides never inhibits itself.
 */
export function isInhibited(
  rules: readonly InhibitRule[],
  target: { fingerprint: string; labels: Labels },
  firingSources: Iterable<{ fingerprint: string; labels: Labels }>,
): boolean {
  const applicable = rules.filter((r) => matchesAll(r.target_matchers, target.labels));
  if (applicable.length === 0) return false;
  for (const src of firingSources) {
    if (src.fingerprint === target.fingerprint) continue;
    for (const r of applicable) {
      if (!matchesAll(r.source_matchers, src.labels)) continue;
      if (r.equal.every((l) => (src.labels[l] ?? "") === (target.labels[l] ?? ""))) return true;
    }
  }
  return false;
}
