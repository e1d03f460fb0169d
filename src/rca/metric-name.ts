import type { MetricKind } from "./types.js";

/**
 * Suffixes that name a component owned by a service rather than a service of its own: the database of
 * `carts` is reported as `carts-db`, and a fault there is a fault of the carts service.
 */
export const DEFAULT_COMPONENT_SUFFIXES: readonly string[] = ["-db"];

/** Service that owns a component name (`carts-db` -> `carts`). */
export function owningService(
  component: string,
  suffixes: readonly string[] = DEFAULT_COMPONENT_SUFFIXES,
): string {
  for (const s of suffixes) {
    if (component.length > s.length && component.endsWith(s)) return component.slice(0, -s.length);
  }
  return component;
}

const KIND_PATTERNS: readonly [RegExp, MetricKind][] = [
  [/(^|_)(cpu|cpu_usage|cpu_seconds)/i, "cpu"],
  [/(^|_)(mem|memory|rss|heap)/i, "mem"],
  [/(^|_)(lat|latency|duration|rt|p\d\d)(_|$)/i, "latency"],
  [/(^|_)(err|errors|error_rate|5xx|fail)/i, "errors"],
  [/(^|_)(lod|load|rps|qps|rate|requests|throughput)(_|$)/i, "traffic"],
  [/(^|_)(disk|io|net|network|fs)(_|$)/i, "io"],
];

/** Kind of a metric from its name (`lat_90` -> latency); "other" when nothing matches. */
export function inferKind(metric: string): MetricKind {
  for (const [re, kind] of KIND_PATTERNS) if (re.test(metric)) return kind;
  return "other";
}

export interface ParsedColumn {
  /** Service the metric is attributed to (component suffix removed). */
  service: string;
  /** Component as written in the column (`carts-db`). */
  component: string;
  /** Metric part of the column (`cpu`, `lat_90`). */
  metric: string;
}

/**
 * Splits a `<service>_<metric>` column. Service names may contain `-` but not `_`, so the first `_`
 * separates them. Returns undefined for a column without one.
 */
export function parseColumnName(
  column: string,
  suffixes: readonly string[] = DEFAULT_COMPONENT_SUFFIXES,
): ParsedColumn | undefined {
  const at = column.indexOf("_");
  if (at <= 0 || at === column.length - 1) return undefined;
  const component = column.slice(0, at);
  return { service: owningService(component, suffixes), component, metric: column.slice(at + 1) };
}
