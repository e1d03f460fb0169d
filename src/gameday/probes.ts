import type { Labels } from "../core/index.js";
import type { InstanceInfo } from "../demo/index.js";
import type { ProbeConfig } from "../healing/index.js";
import type { SeriesStore } from "../ingest/index.js";
import { OPERATIONAL_ROUTES } from "../loop/index.js";

/** Window over which the demo's metric probes compute rates and ratios (ms): five 1 s scrapes. */
export const METRIC_PROBE_WINDOW_MS = 5_000;
/** Share of an instance's requests answered 5xx above which it is failing. */
export const MAX_ERROR_RATIO = 0.2;
/** Share of an instance's calls to other services that fail (refused, timed out, 5xx) above which it is failing. */
export const MAX_UPSTREAM_ERROR_RATIO = 0.2;
/** Mean request latency above which an instance is failing (s): the shop answers in tens of ms. */
export const MAX_MEAN_LATENCY_S = 0.3;
/** CPU an instance may use (cores); the shop at demo load uses a few percent. */
export const MAX_CPU_CORES = 0.6;
/** Resident memory an instance may use (bytes), like a container's memory limit. */
export const MAX_RSS_BYTES = 250 * 1024 * 1024;
/** Consecutive passing reads that end a metric probe's failure. */
export const METRIC_PROBE_SUCCESS_THRESHOLD = 3;
/** Probe period (ms): detection within seconds needs second-level probes. */
export const DEMO_PROBE_PERIOD_MS = 1_000;
export const DEMO_PROBE_TIMEOUT_MS = 800;

/** Per-second increase of the matched counters over the window (summed), or undefined without two samples. */
export function windowRate(
  store: SeriesStore,
  match: Labels,
  windowMs: number,
  now: number,
  keep?: (l: Labels) => boolean,
): number | undefined {
  let total = 0;
  let any = false;
  for (const s of store.select(match)) {
    if (keep && !keep(s.labels)) continue;
    const { times, values } = s.window();
    const n = times.length;
    if (n < 2 || times[n - 1]! < now - windowMs - 2_000) continue;
    let i = n - 1;
    while (i > 0 && times[i - 1]! >= times[n - 1]! - windowMs) i--;
    if (i === n - 1) i = n - 2;
    const dt = (times[n - 1]! - times[i]!) / 1000;
    if (dt <= 0) continue;
    // A counter that went down was reset (restart): count from zero.
    const dv = values[n - 1]! >= values[i]! ? values[n - 1]! - values[i]! : values[n - 1]!;
    total += dv / dt;
    any = true;
  }
  return any ? total : undefined;
}

function lastValue(store: SeriesStore, match: Labels, now: number): number | undefined {
  let v: number | undefined;
  for (const s of store.select(match)) {
    const l = s.last();
    if (l && l.t >= now - 3 * DEMO_PROBE_PERIOD_MS) v = (v ?? 0) + l.v;
  }
  return v;
}

/** Real traffic only: the probes' own /healthz and the scrapes would dilute ratios and means. */
const served = (l: Labels) => !OPERATIONAL_ROUTES.test(l["route"] ?? "");
const is5xx = (l: Labels) => served(l) && (l["code"] ?? "").startsWith("5");
const upstreamFailed = (l: Labels) => {
  const c = l["code"] ?? "";
  return c === "error" || c === "timeout" || c.startsWith("5");
};

function ratio(num: number | undefined, den: number | undefined): number | undefined {
  if (num === undefined || den === undefined || den <= 0) return undefined;
  return num / den;
}

/**
 * The probes the demo puts on each shop instance: liveness, readiness and the process (Kubernetes-style),
 * and golden-signal metric probes on what the platform scrapes (errors, latency, saturation).
 */
export function instanceProbes(
  i: InstanceInfo,
  current: () => InstanceInfo | undefined,
  store: SeriesStore,
  now: () => number,
): ProbeConfig[] {
  const base = {
    periodMs: DEMO_PROBE_PERIOD_MS,
    timeoutMs: DEMO_PROBE_TIMEOUT_MS,
    successThreshold: 1,
    initialDelayMs: 0,
    severity: "critical" as const,
  };
  // Golden-signal ratios over a few requests are noisy: three passing reads in a row end a failure, so
  // one lucky window does not resolve the incident while the fault is still there.
  const metric = { ...base, successThreshold: METRIC_PROBE_SUCCESS_THRESHOLD };
  const inst = { instance: i.id };
  const w = METRIC_PROBE_WINDOW_MS;
  const rate = (name: string, keep?: (l: Labels) => boolean) =>
    windowRate(store, { ...inst, __name__: name }, w, now(), keep);
  return [
    { ...base, name: "liveness", failureThreshold: 2, spec: { kind: "http", url: `${i.url}/healthz` } },
    { ...base, name: "readiness", failureThreshold: 3, spec: { kind: "http", url: `${i.url}/readyz` } },
    {
      ...base,
      name: "process",
      failureThreshold: 2,
      spec: {
        kind: "process",
        pid: () => {
          const c = current();
          return c && c.state === "running" ? c.pid : undefined;
        },
      },
    },
    {
      ...metric,
      name: "errors",
      failureThreshold: 2,
      spec: {
        kind: "metric",
        read: () => ratio(rate("http_requests_total", is5xx), rate("http_requests_total", served)),
        op: ">",
        threshold: MAX_ERROR_RATIO,
      },
    },
    {
      ...metric,
      name: "upstream-errors",
      failureThreshold: 2,
      spec: {
        kind: "metric",
        read: () => ratio(rate("upstream_requests_total", upstreamFailed), rate("upstream_requests_total")),
        op: ">",
        threshold: MAX_UPSTREAM_ERROR_RATIO,
      },
    },
    {
      ...metric,
      name: "latency",
      failureThreshold: 3,
      spec: {
        kind: "metric",
        read: () =>
          ratio(
            rate("http_request_duration_seconds_sum", served),
            rate("http_request_duration_seconds_count", served),
          ),
        op: ">",
        threshold: MAX_MEAN_LATENCY_S,
      },
    },
    {
      ...metric,
      name: "cpu",
      failureThreshold: 3,
      spec: {
        kind: "metric",
        read: () => rate("process_cpu_seconds_total"),
        op: ">",
        threshold: MAX_CPU_CORES,
      },
    },
    {
      ...metric,
      name: "memory",
      failureThreshold: 2,
      spec: {
        kind: "metric",
        read: () => lastValue(store, { ...inst, __name__: "process_resident_memory_bytes" }, now()),
        op: ">",
        threshold: MAX_RSS_BYTES,
      },
    },
  ];
}
