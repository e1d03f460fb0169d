import { fail, ok } from "../core/index.js";
import type { Result } from "../core/index.js";

/** A parsed `timestamp,value` series: ascending, unique timestamps (ms), finite values. */
export interface ParsedSeries {
  t: Float64Array;
  v: Float64Array;
  /** Human-readable notes on rows that were dropped or reordered; empty for a clean file. */
  warnings: string[];
}

/** Beyond this many characters per line the input is not a two-column CSV; stops pathological input early. */
export const CSV_MAX_LINE_CHARS = 10_000;

const DIGIT0 = 48;

function digits(s: string, from: number, count: number): number {
  let x = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - DIGIT0;
    if (c < 0 || c > 9) return -1;
    x = x * 10 + c;
  }
  return x;
}

/**
 * Parses a timestamp to epoch ms: `YYYY-MM-DD HH:MM:SS[.fff]` (NAB's form, read as UTC), any ISO 8601
 * form Date.parse accepts (no zone means UTC), or a number of seconds / milliseconds since the epoch.
 * Returns NaN when it is none of those.
 */
export function parseTimestamp(raw: string): number {
  const s = raw.trim();
  if (s.length >= 19 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && s.charCodeAt(13) === 58) {
    const y = digits(s, 0, 4);
    const mo = digits(s, 5, 2);
    const d = digits(s, 8, 2);
    const h = digits(s, 11, 2);
    const mi = digits(s, 14, 2);
    const se = digits(s, 17, 2);
    const sep = s.charCodeAt(10);
    if (
      y >= 0 &&
      mo >= 1 &&
      mo <= 12 &&
      d >= 1 &&
      d <= 31 &&
      h >= 0 &&
      h < 24 &&
      mi >= 0 &&
      mi < 60 &&
      se >= 0 &&
      se < 61 &&
      (sep === 32 || sep === 84)
    ) {
      const rest = s.slice(19);
      if (rest === "" || /^\.\d+$/.test(rest)) {
        const frac = rest === "" ? 0 : Number(`0${rest}`) * 1000;
        return Date.UTC(y, mo - 1, d, h, mi, se) + Math.round(frac);
      }
    }
  }
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    // Below 1e11 a number is seconds (1e11 s is the year 5138; 1e11 ms is 1973).
    return Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return Number.NaN;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(s);
  const iso = s.replace(" ", "T");
  const ms = Date.parse(hasZone || iso.length <= 10 ? iso : `${iso}Z`);
  return Number.isFinite(ms) ? ms : Number.NaN;
}

/**
 * Parses `timestamp,value` text. Documented behaviour for bad rows: a header line is skipped; rows with an
 * empty, non-numeric or non-finite value or an unreadable timestamp are dropped and counted in `warnings`;
 * rows out of time order are sorted (stable); duplicate timestamps keep the first row. It fails (a value,
 * not an exception) only when no usable row remains or the text is not a CSV of at least two columns.
 */
export function parseSeriesCsv(text: string): Result<ParsedSeries> {
  if (text.includes("\u0000")) return fail("input is binary, not a timestamp,value CSV", false);
  const lines = text.split(/\r?\n/);
  const ts: number[] = [];
  const vs: number[] = [];
  let badValue = 0;
  let badTime = 0;
  let tooFewColumns = 0;
  let firstContent = true;
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li] as string;
    if (line.trim() === "") continue;
    if (line.length > CSV_MAX_LINE_CHARS)
      return fail(
        `line ${li + 1} is longer than ${CSV_MAX_LINE_CHARS} characters: not a timestamp,value CSV`,
        false,
      );
    const comma = line.indexOf(",");
    const isFirst = firstContent;
    firstContent = false;
    if (comma < 0) {
      tooFewColumns++;
      continue;
    }
    const rawT = line.slice(0, comma);
    const next = line.indexOf(",", comma + 1);
    const rawV = (next < 0 ? line.slice(comma + 1) : line.slice(comma + 1, next)).trim();
    const t = parseTimestamp(rawT.replace(/^"|"$/g, ""));
    const v = rawV === "" ? Number.NaN : Number(rawV.replace(/^"|"$/g, ""));
    if (isFirst && (!Number.isFinite(t) || !Number.isFinite(v))) continue; // header
    if (!Number.isFinite(t)) {
      badTime++;
      continue;
    }
    if (!Number.isFinite(v)) {
      badValue++;
      continue;
    }
    ts.push(t);
    vs.push(v);
  }
  if (ts.length === 0) {
    if (badTime + badValue === 0 && tooFewColumns > 0)
      return fail("input is not a timestamp,value CSV: no line has two columns", false);
    return fail(
      "input is not a timestamp,value CSV: no row has both a readable timestamp and a numeric value",
      false,
    );
  }
  const warnings: string[] = [];
  if (badTime > 0) warnings.push(`${badTime} row(s) with an unreadable timestamp dropped`);
  if (badValue > 0) warnings.push(`${badValue} row(s) with an empty or non-numeric value dropped`);
  if (tooFewColumns > 0) warnings.push(`${tooFewColumns} line(s) without a comma dropped`);
  let sorted = true;
  for (let i = 1; i < ts.length; i++) if ((ts[i] as number) < (ts[i - 1] as number)) sorted = false;
  let order = ts.map((_, i) => i);
  if (!sorted) {
    order.sort((a, b) => (ts[a] as number) - (ts[b] as number) || a - b);
    warnings.push("rows were not in time order; sorted by timestamp");
  }
  const keep: number[] = [];
  let dups = 0;
  for (const i of order) {
    const last = keep[keep.length - 1];
    if (last !== undefined && ts[last] === ts[i]) {
      dups++;
      continue;
    }
    keep.push(i);
  }
  if (dups > 0) warnings.push(`${dups} row(s) with a duplicate timestamp dropped (first kept)`);
  order = keep;
  const t = new Float64Array(order.length);
  const v = new Float64Array(order.length);
  order.forEach((i, k) => {
    t[k] = ts[i] as number;
    v[k] = vs[i] as number;
  });
  return ok({ t, v, warnings });
}
