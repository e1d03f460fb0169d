import type { Matcher } from "./schema.js";

const cache = new Map<string, RegExp>();

/** Alertmanager semantics: regexes are fully anchored; a missing label is the empty string. */
export function matches(m: Matcher, labels: Record<string, string>): boolean {
  const v = labels[m.label] ?? "";
  switch (m.op) {
    case "=":
      return v === m.value;
    case "!=":
      return v !== m.value;
    case "=~":
    case "!~": {
      let r = cache.get(m.value);
      if (!r) {
        r = new RegExp(`^(?:${m.value})$`, "u");
        cache.set(m.value, r);
      }
      return m.op === "=~" ? r.test(v) : !r.test(v);
    }
  }
}

export function matchesAll(ms: readonly Matcher[], labels: Record<string, string>): boolean {
  return ms.every((m) => matches(m, labels));
}
