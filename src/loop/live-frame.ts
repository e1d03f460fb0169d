import type { Labels } from "../core/index.js";
import type { Series } from "../ingest/index.js";
import { inferKind, type MetricFrame, type MetricKind, type MetricSeries } from "../rca/index.js";

/** Grid step of a live frame (ms): the demo scrapes every second; coarser sources leave gaps. */
export const DEFAULT_FRAME_STEP_MS = 1_000;
/** A gauge sample stands for the grid slots after it for at most this long (ms), like Prometheus' lookback. */
export const DEFAULT_FRAME_LOOKBACK_MS = 20_000;
/** Labels that split a metric into instances, routes or buckets; metrics are summed over them per service. */
export const AGGREGATED_LABELS: readonly string[] = [
  "instance",
  "job",
  "route",
  "method",
  "le",
  "quantile",
  // A scrape target's own service label, kept aside when the series has one too.
  "exported_service",
];

/**
 * Routes of health checks, scrapes and admin calls: counted by many services with the real traffic, they
 * would dilute its error ratio and latency, so their series stay out of the frame.
 */
export const OPERATIONAL_ROUTES = /^\/(healthz|readyz|livez|metrics|admin)(\/|$)/;

export interface FrameOptions {
  from: number;
  to: number;
  stepMs?: number;
  lookbackMs?: number;
  /** Services to keep (all with a `service` label when absent). */
  services?: ReadonlySet<string>;
  /** Series to leave out. */
  exclude?: (labels: Labels) => boolean;
}

const COUNTER = /(_total|_count|_sum)$/;

/** Per-second rate between consecutive samples, on the later sample's time; a drop is a counter reset. */
function rates(times: Float64Array, values: Float64Array): { times: Float64Array; values: Float64Array } {
  const n = Math.max(0, times.length - 1);
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 1; i < times.length; i++) {
    const dt = (times[i]! - times[i - 1]!) / 1000;
    const dv = values[i]! >= values[i - 1]! ? values[i]! - values[i - 1]! : values[i]!;
    t[i - 1] = times[i]!;
    v[i - 1] = dt > 0 ? dv / dt : Number.NaN;
  }
  return { times: t, values: v };
}

/** Resamples onto the grid: each slot takes the newest sample at or before it, within the lookback. */
function resample(
  times: Float64Array,
  values: Float64Array,
  grid: Float64Array,
  lookbackMs: number,
): Float64Array {
  const out = new Float64Array(grid.length).fill(Number.NaN);
  let j = 0;
  for (let g = 0; g < grid.length; g++) {
    const t = grid[g]!;
    while (j < times.length && times[j]! <= t) j++;
    const k = j - 1;
    if (k >= 0 && t - times[k]! <= lookbackMs) out[g] = values[k]!;
  }
  return out;
}

function groupKey(name: string, labels: Labels): string {
  const rest = Object.entries(labels)
    .filter(([k]) => k !== "__name__" && k !== "service" && !AGGREGATED_LABELS.includes(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  return rest.length ? `${name}{${rest.join(",")}}` : name;
}

function kindOf(name: string): MetricKind {
  if (name === "up") return "other";
  if (name.startsWith("http_request_duration") || name.startsWith("trace_latency")) return "latency";
  return inferKind(name);
}

/**
 * The RCA frame of what a service exposed between `from` and `to` (ms): every series with a `service`
 * label, counters as per-second rates, summed over instances, routes and methods, on a regular grid
 * (unix seconds). A duration summary (`x_sum`, `x_count`) also gives its mean (`x_mean`). Missing data
 * is NaN, so a dead instance shows as a gap in its metrics and a 0 in `up`.
 */
export function frameFromSeries(series: Iterable<Series>, opts: FrameOptions): MetricFrame {
  const step = opts.stepMs ?? DEFAULT_FRAME_STEP_MS;
  const lookback = opts.lookbackMs ?? DEFAULT_FRAME_LOOKBACK_MS;
  const n = Math.max(0, Math.floor((opts.to - opts.from) / step) + 1);
  const grid = new Float64Array(n);
  for (let i = 0; i < n; i++) grid[i] = opts.from + i * step;

  const groups = new Map<string, { service: string; name: string; values: Float64Array; seen: Uint8Array }>();
  for (const s of series) {
    const service = s.labels["service"];
    const name = s.labels["__name__"];
    if (!service || !name || name.endsWith("_bucket") || s.ended) continue;
    if (OPERATIONAL_ROUTES.test(s.labels["route"] ?? "") || opts.exclude?.(s.labels)) continue;
    if (opts.services && !opts.services.has(service)) continue;
    let { times, values } = s.window();
    if (times.length === 0 || times[times.length - 1]! < opts.from - lookback) continue;
    if (COUNTER.test(name)) ({ times, values } = rates(times, values));
    const sampled = resample(times, values, grid, lookback);
    const key = `${service}_${groupKey(name, s.labels)}`;
    let g = groups.get(key);
    if (!g) {
      g = { service, name, values: new Float64Array(n), seen: new Uint8Array(n) };
      groups.set(key, g);
    }
    for (let i = 0; i < n; i++) {
      const v = sampled[i]!;
      if (Number.isNaN(v)) continue;
      g.values[i] = g.values[i]! + v;
      g.seen[i] = 1;
    }
  }

  const out: MetricSeries[] = [];
  for (const [key, g] of groups) {
    const values = g.values.map((v, i) => (g.seen[i] ? v : Number.NaN));
    out.push({ name: key, service: g.service, kind: kindOf(g.name), values });
  }
  // Mean of a duration summary: its sum rate over its count rate, where requests were made.
  for (const [key, g] of groups) {
    if (!g.name.endsWith("_sum")) continue;
    const count = groups.get(key.replace(/_sum(\{|$)/, "_count$1"));
    if (!count) continue;
    const base = g.name.slice(0, -"_sum".length);
    const values = new Float64Array(n).map((_, i) => {
      const c = count.seen[i] ? count.values[i]! : Number.NaN;
      return g.seen[i] && c > 0 ? g.values[i]! / c : Number.NaN;
    });
    out.push({ name: key.replace(/_sum(\{|$)/, "_mean$1"), service: g.service, kind: kindOf(base), values });
  }
  const times = grid.map((t) => t / 1000);
  return { times, series: out.sort((a, b) => a.name.localeCompare(b.name)) };
}
