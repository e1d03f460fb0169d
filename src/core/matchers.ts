import { z } from "zod";
import type { Labels } from "./labels.js";
import { fail, ok, type Result } from "./result.js";

/** Alertmanager's four matcher operators. */
export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
  /** Compiled, fully anchored regular expression for `=~` and `!~`. */
  re?: RegExp;
}

const OPS: readonly string[] = ["=", "!=", "=~", "!~"];
/** Label names as Prometheus writes them; dots are allowed too since OTel-derived labels use them. */
const NAME = /^[A-Za-z_][A-Za-z0-9_.]*/;
const OP_RUN = /^[=!~]+/;
/** Longest matcher text we accept: config and API inputs are bounded, regexes included. */
export const MAX_MATCHER_LENGTH_CHARS = 4096;

/**
 * Parses one matcher in Alertmanager's string syntax: `name="value"`, `name=value`, `name!=v`,
 * `name=~"re"`, `name!~"re"`. Regexes are anchored at both ends, as in Prometheus.
 */
export function parseMatcher(text: string): Result<Matcher> {
  if (text.length > MAX_MATCHER_LENGTH_CHARS)
    return fail(`matcher longer than ${MAX_MATCHER_LENGTH_CHARS} characters`, false);
  const s = text.trim();
  const nameMatch = NAME.exec(s);
  if (!nameMatch) return fail(`invalid matcher ${JSON.stringify(text)}: expected a label name first`, false);
  const name = nameMatch[0];
  let rest = s.slice(name.length).trimStart();
  const opMatch = OP_RUN.exec(rest);
  if (!opMatch)
    return fail(
      `invalid matcher ${JSON.stringify(text)}: expected an operator (=, !=, =~, !~) after ${JSON.stringify(name)}`,
      false,
    );
  const opText = opMatch[0];
  if (!OPS.includes(opText)) return fail(`unknown operator ${JSON.stringify(opText)}`, false);
  const op = opText as MatchOp;
  rest = rest.slice(opText.length).trim();

  let value: string;
  if (rest.startsWith('"')) {
    const parsed = parseQuoted(rest);
    if (parsed.status === "error")
      return fail(`invalid matcher ${JSON.stringify(text)}: ${parsed.error}`, false);
    value = parsed.value;
  } else {
    if (/["]/.test(rest))
      return fail(`invalid matcher ${JSON.stringify(text)}: unbalanced quote in value`, false);
    value = rest;
  }

  if (op === "=~" || op === "!~") {
    try {
      return ok({ name, op, value, re: new RegExp(`^(?:${value})$`) });
    } catch (e) {
      return fail(`invalid regular expression ${JSON.stringify(value)}: ${(e as Error).message}`, false);
    }
  }
  return ok({ name, op, value });
}

/** A double-quoted value with Go-style escapes (\" \\ \n \t); nothing may follow the closing quote. */
function parseQuoted(s: string): Result<string> {
  let out = "";
  for (let i = 1; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "\\") {
      const next = s[i + 1];
      if (next === undefined) break;
      out += next === "n" ? "\n" : next === "t" ? "\t" : next;
      i++;
      continue;
    }
    if (c === '"') {
      if (s.slice(i + 1).trim() !== "") return fail("unexpected text after closing quote", false);
      return ok(out);
    }
    out += c;
  }
  return fail("missing closing quote", false);
}

/** Canonical text of a matcher, parseable by parseMatcher. */
export function matcherToString(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}

/** Whether one matcher accepts a label set. A missing label is the empty string, as in Prometheus. */
export function matches(m: Matcher, labels: Labels): boolean {
  const v = labels[m.name] ?? "";
  switch (m.op) {
    case "=":
      return v === m.value;
    case "!=":
      return v !== m.value;
    case "=~":
      return (m.re as RegExp).test(v);
    case "!~":
      return !(m.re as RegExp).test(v);
  }
}

/** All matchers accept the labels (an empty list accepts everything). */
export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  for (const m of matchers) if (!matches(m, labels)) return false;
  return true;
}

/** Config/API schema: a matcher string in, a parsed Matcher out; parse errors become the zod issue. */
export const matcherSchema = z.string().transform((s, ctx): Matcher => {
  const r = parseMatcher(s);
  if (r.status === "error") {
    ctx.addIssue({ code: "custom", message: r.error });
    return z.NEVER;
  }
  return r.value;
});
