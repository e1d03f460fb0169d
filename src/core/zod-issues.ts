import type { z } from "zod";
import type { ErrorDetail } from "./errors.js";

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] as number;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number;
      dp[j] = Math.min(
        (dp[j] as number) + 1,
        (dp[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return dp[b.length] as number;
}

function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  for (const p of path) {
    s = unwrap(s);
    const def = (s as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } }).def;
    if (def?.type === "object" && typeof p === "string") s = def.shape?.[p];
    else if (def?.type === "array") s = def.element;
    else return [];
  }
  s = unwrap(s);
  const def = (s as { def?: { type?: string; shape?: Record<string, unknown> } } | undefined)?.def;
  return def?.type === "object" ? Object.keys(def.shape ?? {}) : [];
}

function unwrap(s: unknown): unknown {
  for (let i = 0; i < 10; i++) {
    const def = (s as { def?: { type?: string; innerType?: unknown; in?: unknown } } | undefined)?.def;
    if (!def) return s;
    if (
      def.type === "default" ||
      def.type === "optional" ||
      def.type === "prefault" ||
      def.type === "nullable" ||
      def.type === "catch"
    )
      s = def.innerType;
    else if (def.type === "pipe") s = def.in;
    else return s;
  }
  return s;
}

/** Turns zod issues into `path: message` lines with hints (did-you-mean for unknown keys). */
export function describeIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const near = known.map((k) => [k, editDistance(k, key)] as const).sort((a, b) => a[1] - b[1])[0];
        const hint =
          near && near[1] <= Math.max(2, Math.floor(key.length / 3))
            ? ` (did you mean "${near[0]}"?)`
            : known.length
              ? ` (known keys: ${known.join(", ")})`
              : "";
        out.push({ path: formatPath([...issue.path, key]), message: `unknown key "${key}"${hint}` });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === "invalid_value" && "values" in issue && issue.message.startsWith("Invalid")) {
      message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    } else if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
      message = `required: ${issue.message.replace(/^Invalid input: /, "")}`;
    }
    out.push({ path: formatPath(issue.path), message });
  }
  return out;
}
