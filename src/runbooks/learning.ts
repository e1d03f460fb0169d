import { stringify } from "yaml";
import type { Incident, StoredAlert, StoredTimelineEntry } from "../incidents/index.js";
import type { Outcome } from "./model.js";
import { parseRunbook } from "./load.js";

/** Notes folded into one draft runbook at most. */
export const DRAFT_MAX_STEPS = 12;

/**
 * The signature of an incident: which alerts fired on which services, order-free. Incidents with
 * the same signature are "the same problem again" for learning.
 */
export function incidentSignature(
  incident: Pick<Incident, "services" | "labels">,
  alerts: readonly Pick<StoredAlert, "labels">[],
): string {
  const names = new Set<string>();
  for (const a of alerts) if (a.labels["alertname"]) names.add(a.labels["alertname"]);
  if (!names.size && incident.labels["alertname"]) names.add(incident.labels["alertname"]);
  const services = [...new Set(incident.services)].sort();
  return `${[...names].sort().join(",")}@${services.join(",")}`;
}

function tokens(sig: string): Set<string> {
  const [names = "", services = ""] = sig.split("@");
  const out = new Set<string>();
  for (const n of names.split(",")) if (n) out.add(`a:${n}`);
  for (const s of services.split(",")) if (s) out.add(`s:${s}`);
  return out;
}

/** Jaccard similarity of two signatures' alert names and services. */
export function signatureSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const x = tokens(a);
  const y = tokens(b);
  if (!x.size || !y.size) return 0;
  let both = 0;
  for (const t of x) if (y.has(t)) both++;
  return both / (x.size + y.size - both);
}

export interface Suggestion {
  runbook: string;
  /** Similarity-weighted success rate with a Laplace prior: (successes + 1) / (attempts + 2). */
  score: number;
  successes: number;
  attempts: number;
  /** Highest similarity of a past incident this runbook was used on. */
  bestSimilarity: number;
}

/** Ranks runbooks by past success on similar incidents (pure). Outcomes on dissimilar incidents are ignored. */
export function rankRunbooks(
  signature: string,
  outcomes: readonly Outcome[],
  minSimilarity = 0.2,
): Suggestion[] {
  const by = new Map<string, { s: number; n: number; ok: number; all: number; best: number }>();
  for (const o of outcomes) {
    const sim = signatureSimilarity(signature, o.signature);
    if (sim < minSimilarity) continue;
    const r = by.get(o.runbook) ?? { s: 0, n: 0, ok: 0, all: 0, best: 0 };
    r.n += sim;
    r.all++;
    if (o.success) {
      r.s += sim;
      r.ok++;
    }
    r.best = Math.max(r.best, sim);
    by.set(o.runbook, r);
  }
  return [...by.entries()]
    .map(([runbook, r]) => ({
      runbook,
      score: (r.s + 1) / (r.n + 2),
      successes: r.ok,
      attempts: r.all,
      bestSimilarity: r.best,
    }))
    .sort((a, b) => b.score - a.score || b.attempts - a.attempts || a.runbook.localeCompare(b.runbook));
}

/** Splits a command written in a note (inside backticks) into argv, honouring simple quotes. */
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? (m[3] as string));
  return out;
}

/**
 * Writes a draft runbook from what operators noted on past incidents of a signature: notes seen on
 * more incidents come first; a note with a `command` in backticks becomes a command step (its own
 * argv, no shell), others become manual steps. The draft is marked `draft: true` so it cannot run live.
 */
export function draftRunbook(
  signature: string,
  history: readonly { incidentId: string; timeline: readonly StoredTimelineEntry[] }[],
): string {
  const seen = new Map<string, { text: string; incidents: Set<string>; first: number }>();
  for (const h of history) {
    for (const t of h.timeline) {
      if (t.kind !== "note" || !t.actor.startsWith("user:")) continue;
      const text = typeof t.data["text"] === "string" ? t.data["text"].trim() : "";
      if (!text) continue;
      const key = text.toLowerCase().replace(/\s+/g, " ");
      const r = seen.get(key) ?? { text, incidents: new Set<string>(), first: t.at };
      r.incidents.add(h.incidentId);
      r.first = Math.min(r.first, t.at - (h.timeline[0]?.at ?? t.at));
      seen.set(key, r);
    }
  }
  const notes = [...seen.values()]
    .sort((a, b) => b.incidents.size - a.incidents.size || a.first - b.first)
    .slice(0, DRAFT_MAX_STEPS);
  const slug =
    signature
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "incident";
  const steps: Record<string, unknown>[] = notes.map((n, i) => {
    const cmd = /`([^`]+)`/.exec(n.text);
    const id = `step-${i + 1}`;
    const name = `${n.text.slice(0, 80)} (noted on ${n.incidents.size} incident${n.incidents.size === 1 ? "" : "s"})`;
    if (cmd) return { id, name, kind: "command", argv: splitCommand(cmd[1] as string), on_failure: "abort" };
    return { id, name, kind: "manual", instructions: n.text };
  });
  steps.unshift({ id: "review", kind: "approval", message: "Run these drafted steps?" });
  steps.push({
    id: "confirm",
    kind: "manual",
    instructions: "Confirm the alerts of this incident have resolved.",
  });
  const doc = {
    apiVersion: "novasre/v1",
    name: `draft-${slug}`.replace(/-+$/, "").slice(0, 63),
    description: `Drafted from operator notes on ${history.length} past incident(s) with signature ${signature}. Review every step before removing draft: true.`,
    category: "drafted",
    risk: "high",
    draft: true,
    steps,
  };
  const yaml = stringify(doc, { lineWidth: 110 });
  parseRunbook(yaml, "draft");
  return yaml;
}
