import type { ServiceGraph } from "./types.js";

/**
 * Largest share of a caller's score removed when everything it calls has moved too: a fault in a callee
 * shows up in its callers (their latency, their errors), so when both move the callee is the better bet.
 */
export const DEFAULT_CALLER_DISCOUNT = 0.5;
/** How far down the call graph a moved service still explains its callers (hops). */
export const DEFAULT_GRAPH_MAX_DEPTH = 4;

export interface GraphOptions {
  callerDiscount?: number;
  maxDepth?: number;
}

export interface GraphAdjustment {
  factor: number;
  /** Moved downstream services that explain this one, with their traffic share. */
  explainedBy: { service: string; share: number }[];
}

/** Normalised out-edges: share of each caller's calls that go to each callee (equal shares without rates). */
function outShares(graph: ServiceGraph): Map<string, Map<string, number>> {
  const raw = new Map<string, Map<string, number>>();
  for (const e of graph.edges) {
    if (e.caller === e.callee) continue;
    const m = raw.get(e.caller) ?? new Map<string, number>();
    const r = e.rate !== undefined && Number.isFinite(e.rate) && e.rate >= 0 ? e.rate : Number.NaN;
    m.set(e.callee, (m.get(e.callee) ?? 0) + (Number.isNaN(r) ? 1 : r));
    raw.set(e.caller, m);
  }
  const shares = new Map<string, Map<string, number>>();
  for (const [caller, m] of raw) {
    let total = 0;
    for (const v of m.values()) total += v;
    const out = new Map<string, number>();
    for (const [callee, v] of m) out.set(callee, total > 0 ? v / total : 1 / m.size);
    shares.set(caller, out);
  }
  return shares;
}

/**
 * Discount factor per service from the service graph: a moved service whose downstream (callees, and
 * their callees, traffic shares multiplied along the path) also moved is demoted in proportion to the
 * share of its traffic that reaches moved services. Services that did not move are left alone.
 */
export function graphAdjustments(
  moved: ReadonlySet<string>,
  graph: ServiceGraph | undefined,
  opts: GraphOptions = {},
): Map<string, GraphAdjustment> {
  const out = new Map<string, GraphAdjustment>();
  if (!graph || graph.edges.length === 0) return out;
  const discount = opts.callerDiscount ?? DEFAULT_CALLER_DISCOUNT;
  const maxDepth = opts.maxDepth ?? DEFAULT_GRAPH_MAX_DEPTH;
  const shares = outShares(graph);
  for (const caller of moved) {
    // Largest product of traffic shares over paths of up to maxDepth calls, to every downstream service:
    // maxDepth rounds of relaxation over the edges (shares are at most 1, so cycles never help), which
    // stays O(depth x edges) where enumerating paths would explode on a dense graph.
    let frontier = new Map<string, number>([[caller, 1]]);
    const best = new Map<string, number>();
    for (let depth = 0; depth < maxDepth && frontier.size > 0; depth++) {
      const next = new Map<string, number>();
      for (const [svc, share] of frontier) {
        for (const [callee, s] of shares.get(svc) ?? []) {
          if (callee === caller) continue;
          const sh = share * s;
          if (sh > (best.get(callee) ?? 0)) {
            best.set(callee, sh);
            next.set(callee, Math.max(next.get(callee) ?? 0, sh));
          }
        }
      }
      frontier = next;
    }
    const reach = new Map<string, number>();
    for (const [svc, sh] of best) if (moved.has(svc)) reach.set(svc, sh);
    if (reach.size === 0) continue;
    // Shares of different moved callees add up (a caller of two broken services is doubly explained).
    let explained = 0;
    for (const v of reach.values()) explained += v;
    const factor = 1 - discount * Math.min(1, explained);
    const explainedBy = [...reach.entries()]
      .map(([service, share]) => ({ service, share }))
      .sort((a, b) => b.share - a.share);
    out.set(caller, { factor, explainedBy });
  }
  return out;
}
