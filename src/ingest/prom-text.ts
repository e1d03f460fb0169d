import { fail, ok, type Labels, type Result } from "../core/index.js";

/**
 * A parser of the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text, written from their
 * public specifications. It visits samples instead of building a document, and hands out each sample's
 * series text (`name{labels}` exactly as written) before parsing labels, so a scraper that has seen the
 * same series text before can skip label parsing and hashing.
 */

export type ExpositionFormat = "prometheus" | "openmetrics";
export type MetricType =
  | "counter"
  | "gauge"
  | "histogram"
  | "summary"
  | "untyped"
  | "unknown"
  | "info"
  | "stateset"
  | "gaugehistogram";

interface MetadataVisitor {
  type?(name: string, type: MetricType): void;
  help?(name: string, text: string): void;
}

export interface SampleVisitor {
  /**
   * One sample. `key` is the series text; `labels()` parses it (only call it when needed: a key seen
   * before has the same labels). `timestampMs` is undefined when the exposition gave none.
   */
  sample(
    key: string,
    name: string,
    labels: () => Labels,
    value: number,
    timestampMs: number | undefined,
  ): void;
  type?(name: string, type: MetricType): void;
  help?(name: string, text: string): void;
}

const TYPES = new Set([
  "counter",
  "gauge",
  "histogram",
  "summary",
  "untyped",
  "unknown",
  "info",
  "stateset",
  "gaugehistogram",
]);
/** Families whose `_created` samples OpenMetrics adds (creation timestamps, not measurements; Prometheus drops them too). */
const CREATED_FAMILIES = new Set(["counter", "histogram", "summary", "gaugehistogram"]);

/** A malformed exposition; labels() of a visited sample may throw it too. */
export class ExpositionError extends Error {}
const ParseError = ExpositionError;

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

/** Go's strconv.ParseFloat forms that Prometheus accepts, plus the Inf/NaN spellings. */
export function parseValue(s: string): number {
  const n = Number(s);
  if (s !== "" && !Number.isNaN(n) && !/^\s|\s$|^[+-]?0[xob]/i.test(s)) return n;
  switch (s.toLowerCase()) {
    case "nan":
      return NaN;
    case "+inf":
    case "inf":
    case "+infinity":
    case "infinity":
      return Infinity;
    case "-inf":
    case "-infinity":
      return -Infinity;
  }
  throw new ParseError(`invalid value ${JSON.stringify(s)}`);
}

/** Parses the `{a="x",b="y"}` part of a series text starting at `i` (the `{`); returns labels and end. */
function parseLabels(line: string, i: number, into: Labels, n: number = line.length): number {
  let p = i + 1;
  for (;;) {
    while (p < n && (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9)) p++;
    if (line.charCodeAt(p) === 125) return p + 1;
    const ns = p;
    if (!isNameStart(line.charCodeAt(p))) throw new ParseError("expected a label name");
    while (p < n && isNameChar(line.charCodeAt(p))) p++;
    const name = line.slice(ns, p);
    while (p < n && (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9)) p++;
    if (line.charCodeAt(p) !== 61) throw new ParseError(`expected "=" after label ${name}`);
    p++;
    while (p < n && (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9)) p++;
    if (line.charCodeAt(p) !== 34) throw new ParseError(`expected a quoted value for label ${name}`);
    p++;
    let value = "";
    let seg = p;
    for (;;) {
      if (p >= n) throw new ParseError("unterminated label value");
      const c = line.charCodeAt(p);
      if (c === 34) break;
      if (c === 92) {
        value += line.slice(seg, p);
        const e = line.charCodeAt(p + 1);
        value += e === 110 ? "\n" : e === 92 ? "\\" : e === 34 ? '"' : `\\${line[p + 1] ?? ""}`;
        p += 2;
        seg = p;
        continue;
      }
      p++;
    }
    value += line.slice(seg, p);
    p++;
    if (Object.prototype.hasOwnProperty.call(into, name)) throw new ParseError(`duplicate label ${name}`);
    into[name] = value;
    while (p < n && (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9)) p++;
    const c = line.charCodeAt(p);
    if (c === 44) {
      p++;
      continue;
    }
    if (c === 125) return p + 1;
    throw new ParseError('expected "," or "}" in labels');
  }
}

/** Finds the end of the `{...}` block starting at `i` without building strings. */
function skipLabels(line: string, i: number, n: number = line.length): number {
  let p = i + 1;
  let inQuote = false;
  while (p < n) {
    const c = line.charCodeAt(p);
    if (inQuote) {
      if (c === 92) p++;
      else if (c === 34) inQuote = false;
    } else if (c === 34) inQuote = true;
    else if (c === 125) return p + 1;
    p++;
  }
  throw new ParseError("unterminated label set");
}

/** A `# HELP`, `# TYPE` or `# UNIT` line (other comments are ignored); records TYPEs in `types`. */
function metadata(line: string, types: Map<string, string>, v: MetadataVisitor): void {
  const m = /^#[ \t]+(HELP|TYPE|UNIT)[ \t]+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:[ \t]+(.*))?$/.exec(line);
  if (!m) return;
  const name = m[2] as string;
  const rest = m[3] ?? "";
  if (m[1] === "TYPE") {
    const t = rest.trim();
    if (!TYPES.has(t)) throw new ParseError(`unknown metric type ${JSON.stringify(t)}`);
    types.set(name, t);
    v.type?.(name, t as MetricType);
  } else if (m[1] === "HELP")
    v.help?.(
      name,
      rest.replace(/\\(\\|n|")/g, (_, c: string) => (c === "n" ? "\n" : c)),
    );
}

/**
 * Visits every sample of an exposition. Fails (with the line number) on the first malformed line, as
 * Prometheus does: a half-read scrape would make series vanish and reappear.
 */
export function scanExposition(
  text: string,
  format: ExpositionFormat,
  v: SampleVisitor,
): Result<{ samples: number }> {
  const om = format === "openmetrics";
  const types = new Map<string, string>();
  let lineNo = 0;
  let pos = 0;
  let samples = 0;
  let sawEof = false;
  const len = text.length;
  try {
    while (pos < len) {
      let end = text.indexOf("\n", pos);
      if (end < 0) end = len;
      let line = text.slice(pos, end);
      pos = end + 1;
      lineNo++;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (sawEof) {
        if (line !== "") throw new ParseError("content after # EOF");
        continue;
      }
      const c0 = line.charCodeAt(0);
      if (line === "" || ((c0 === 32 || c0 === 9) && /^[ \t]*$/.test(line))) {
        if (om && line === "" && pos < len) throw new ParseError("empty line (not allowed in OpenMetrics)");
        continue;
      }
      if (line.charCodeAt(0) === 35) {
        if (om && line === "# EOF") {
          sawEof = true;
          continue;
        }
        metadata(line, types, v);
        continue;
      }
      // A sample: name [labels] value [timestamp] [# exemplar (OpenMetrics)].
      let p = 0;
      while (p < line.length && isNameChar(line.charCodeAt(p))) p++;
      if (p === 0 || !isNameStart(line.charCodeAt(0))) throw new ParseError("expected a metric name");
      const name = line.slice(0, p);
      let labelStart = -1;
      if (line.charCodeAt(p) === 123) {
        labelStart = p;
        p = skipLabels(line, p);
      }
      const key = line.slice(0, p);
      const n = line.length;
      while (p < n && (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9)) p++;
      const vs = p;
      while (p < n && line.charCodeAt(p) !== 32 && line.charCodeAt(p) !== 9) p++;
      if (p === vs) throw new ParseError("expected a value");
      const value = parseValue(line.slice(vs, p));
      while (p < n && (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9)) p++;
      let ts: number | undefined;
      if (p < n && !(om && line.charCodeAt(p) === 35)) {
        const tsStart = p;
        while (p < n && line.charCodeAt(p) !== 32 && line.charCodeAt(p) !== 9) p++;
        const raw = line.slice(tsStart, p);
        const tv = Number(raw);
        if (!Number.isFinite(tv) || (!om && !/^-?\d+$/.test(raw)))
          throw new ParseError(`invalid timestamp ${JSON.stringify(raw)}`);
        ts = om ? Math.round(tv * 1000) : tv;
        while (p < n && (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9)) p++;
      }
      // What may follow: nothing, or in OpenMetrics an exemplar (` # {labels} value [timestamp]`), ignored.
      if (p < n && !(om && line.charCodeAt(p) === 35))
        throw new ParseError("unexpected text after the sample");
      if (om && name.endsWith("_created")) {
        const family = types.get(name.slice(0, -"_created".length));
        if (family !== undefined && CREATED_FAMILIES.has(family)) continue;
      }
      samples++;
      const ls = labelStart;
      const at = lineNo;
      v.sample(
        key,
        name,
        () => {
          const labels: Labels = {};
          try {
            if (ls >= 0) parseLabels(key, ls, labels);
          } catch (e) {
            throw e instanceof ExpositionError ? new ExpositionError(`line ${at}: ${e.message}`) : e;
          }
          return labels;
        },
        value,
        ts,
      );
    }
    if (om && !sawEof) throw new ParseError("missing # EOF");
  } catch (e) {
    if (e instanceof ExpositionError) return fail(`line ${lineNo}: ${e.message}`, false);
    throw e;
  }
  return ok({ samples });
}

/**
 * One sample as the fast scanner found it. The scanner reuses one cursor for every sample, so it is valid
 * only during the `sample` call; `key()`, `name()` and `labels()` make strings only when called.
 */
export interface SampleCursor {
  /** The exposition; the series text (`name{labels}` exactly as written) is `text[keyStart, keyEnd)`. */
  readonly text: string;
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly value: number;
  /** Undefined when the exposition gave none. */
  readonly timestampMs: number | undefined;
  /** Whether the series text equals the hint given for this sample's ordinal (see scanSamples). */
  readonly hinted: boolean;
  key(): string;
  name(): string;
  /** Parses the labels; throws ExpositionError (with the line number) on a malformed label set. */
  labels(): Labels;
}

export interface CursorVisitor extends MetadataVisitor {
  sample(c: SampleCursor): void;
}

class Cursor implements SampleCursor {
  keyStart = 0;
  keyEnd = 0;
  nameEnd = 0;
  labelStart = -1;
  lineNo = 0;
  value = 0;
  timestampMs: number | undefined = undefined;
  hinted = false;
  constructor(readonly text: string) {}
  key(): string {
    return this.text.slice(this.keyStart, this.keyEnd);
  }
  name(): string {
    return this.text.slice(this.keyStart, this.nameEnd);
  }
  labels(): Labels {
    const labels: Labels = {};
    if (this.labelStart < 0) return labels;
    try {
      parseLabels(this.text, this.labelStart, labels, this.keyEnd);
    } catch (e) {
      throw e instanceof ExpositionError ? new ExpositionError(`line ${this.lineNo}: ${e.message}`) : e;
    }
    return labels;
  }
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * `[+-]digits[.digits]` with at most 15 digits, without making a string: the digits are an exact integer
 * below 2^53 and the power of ten is exact, so one IEEE division gives the correctly rounded value, the
 * same double as Number(). Anything else (exponents, Inf, NaN, long mantissas) returns undefined.
 */
function fastDecimal(text: string, s: number, e: number): number | undefined {
  let i = s;
  let c = text.charCodeAt(i);
  const neg = c === 45;
  if (neg || c === 43) i++;
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < e; i++) {
    c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
    } else if (c === 46 && frac < 0) frac = digits;
    else return undefined;
  }
  if (digits === 0 || digits > 15) return undefined;
  const v = frac < 0 || frac === digits ? m : m / (POW10[digits - frac] as number);
  return neg ? -v : v;
}

/** `-?digits` (at most 15) as an integer without making a string; undefined for anything else. */
function fastInteger(text: string, s: number, e: number): number | undefined {
  let i = s;
  const neg = text.charCodeAt(i) === 45;
  if (neg) i++;
  if (i === e || e - i > 15) return undefined;
  let m = 0;
  for (; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    m = m * 10 + (c - 48);
  }
  return neg ? -m : m;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * The scraper's scanner: the same grammar, results and errors as scanExposition, but it walks the
 * exposition by index instead of slicing lines, parses plain decimals without making strings, skips HELP
 * lines nobody asked for, and hands out one reused cursor.
 *
 * `hints[n]`, when given, is the series text the n-th sample is expected to have (the scraper passes the
 * texts of the target's last scrape, in order). A sample whose text equals its hint is not scanned char by
 * char: the hint was a whole series text, so the same characters followed by a blank end the same way.
 */
export function scanSamples(
  text: string,
  format: ExpositionFormat,
  v: CursorVisitor,
  hints?: readonly (string | undefined)[],
): Result<{ samples: number }> {
  const om = format === "openmetrics";
  const types = new Map<string, string>();
  const cur = new Cursor(text);
  let lineNo = 0;
  let pos = 0;
  let samples = 0;
  let sawEof = false;
  const len = text.length;
  try {
    while (pos < len) {
      let end = text.indexOf("\n", pos);
      if (end < 0) end = len;
      const start = pos;
      pos = end + 1;
      lineNo++;
      const le = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      if (sawEof) {
        if (le !== start) throw new ParseError("content after # EOF");
        continue;
      }
      if (le === start) {
        if (om && pos < len) throw new ParseError("empty line (not allowed in OpenMetrics)");
        continue;
      }
      const c0 = text.charCodeAt(start);
      if (isBlank(c0)) {
        let q = start;
        while (q < le && isBlank(text.charCodeAt(q))) q++;
        if (q === le) continue;
      }
      if (c0 === 35) {
        if (om && le - start === 5 && text.startsWith("# EOF", start)) {
          sawEof = true;
          continue;
        }
        // Only TYPE lines (and HELP lines when asked for) have any effect; the rest are not sliced.
        let q = start + 1;
        while (q < le && isBlank(text.charCodeAt(q))) q++;
        if (
          q > start + 1 &&
          (text.startsWith("TYPE", q) || (v.help !== undefined && text.startsWith("HELP", q)))
        )
          metadata(text.slice(start, le), types, v);
        continue;
      }
      // A sample: name [labels] value [timestamp] [# exemplar (OpenMetrics)].
      let p = start;
      let nameEnd: number;
      let labelStart = -1;
      const hint = hints?.[samples];
      const hintEnd = hint === undefined ? -1 : start + hint.length;
      const hinted =
        hintEnd > start &&
        hintEnd < le &&
        isBlank(text.charCodeAt(hintEnd)) &&
        text.slice(start, hintEnd) === hint;
      if (hinted) {
        p = hintEnd;
        const brace = text.indexOf("{", start);
        nameEnd = brace >= 0 && brace < hintEnd ? brace : hintEnd;
        if (nameEnd < hintEnd) labelStart = nameEnd;
      } else {
        while (p < le && isNameChar(text.charCodeAt(p))) p++;
        if (p === start || !isNameStart(c0)) throw new ParseError("expected a metric name");
        nameEnd = p;
        if (p < le && text.charCodeAt(p) === 123) {
          labelStart = p;
          p = skipLabels(text, p, le);
        }
      }
      const keyEnd = p;
      while (p < le && isBlank(text.charCodeAt(p))) p++;
      const vs = p;
      while (p < le && !isBlank(text.charCodeAt(p))) p++;
      if (p === vs) throw new ParseError("expected a value");
      const value = fastDecimal(text, vs, p) ?? parseValue(text.slice(vs, p));
      while (p < le && isBlank(text.charCodeAt(p))) p++;
      let ts: number | undefined;
      if (p < le && !(om && text.charCodeAt(p) === 35)) {
        const tsStart = p;
        while (p < le && !isBlank(text.charCodeAt(p))) p++;
        ts = om ? undefined : fastInteger(text, tsStart, p);
        if (ts === undefined) {
          const raw = text.slice(tsStart, p);
          const tv = Number(raw);
          if (!Number.isFinite(tv) || (!om && !/^-?\d+$/.test(raw)))
            throw new ParseError(`invalid timestamp ${JSON.stringify(raw)}`);
          ts = om ? Math.round(tv * 1000) : tv;
        }
        while (p < le && isBlank(text.charCodeAt(p))) p++;
      }
      if (p < le && !(om && text.charCodeAt(p) === 35))
        throw new ParseError("unexpected text after the sample");
      if (om && nameEnd - start > 8 && text.startsWith("_created", nameEnd - 8)) {
        const family = types.get(text.slice(start, nameEnd - 8));
        if (family !== undefined && CREATED_FAMILIES.has(family)) continue;
      }
      samples++;
      cur.keyStart = start;
      cur.keyEnd = keyEnd;
      cur.nameEnd = nameEnd;
      cur.labelStart = labelStart;
      cur.lineNo = lineNo;
      cur.value = value;
      cur.timestampMs = ts;
      cur.hinted = hinted;
      v.sample(cur);
    }
    if (om && !sawEof) throw new ParseError("missing # EOF");
  } catch (e) {
    if (e instanceof ExpositionError) return fail(`line ${lineNo}: ${e.message}`, false);
    throw e;
  }
  return ok({ samples });
}

export interface ParsedSample {
  name: string;
  labels: Labels;
  value: number;
  timestampMs: number | undefined;
}

/** Convenience form: all samples with their labels parsed (tests, small expositions). */
export function parseExposition(
  text: string,
  format: ExpositionFormat = "prometheus",
): Result<ParsedSample[]> {
  const out: ParsedSample[] = [];
  let labelError: string | undefined;
  const r = scanExposition(text, format, {
    sample(_key, name, labels, value, timestampMs) {
      try {
        out.push({ name, labels: labels(), value, timestampMs });
      } catch (e) {
        labelError ??= (e as Error).message;
      }
    },
  });
  if (r.status === "error") return r;
  if (labelError !== undefined) return fail(labelError, false);
  return ok(out);
}

/** Format from a response Content-Type. */
export function formatOf(contentType: string | undefined): ExpositionFormat {
  return /^application\/openmetrics-text/i.test(contentType ?? "") ? "openmetrics" : "prometheus";
}
