import { z } from "zod";
import { durationSchema, matcherSchema } from "../core/index.js";

/** Wait after an incident opens before ranking its cause (ms): the onset needs samples after it. */
export const DEFAULT_DIAGNOSE_DELAY_MS = 4_000;
/** Metrics read before the incident's detection for the normal period (ms). */
export const DEFAULT_DIAGNOSE_LOOKBACK_MS = 3 * 60_000;
/** A config change or deploy this long before the onset counts as a suspect (ms). */
export const DEFAULT_CHANGE_WINDOW_MS = 10 * 60_000;
/**
 * Metric names the ranking reads by default: availability, traffic, errors, latency (RED) and CPU, memory
 * and disk (USE), as Prometheus client libraries and exporters name them.
 */
export const DEFAULT_RANKED_METRICS =
  "up|process_cpu_seconds_total|process_resident_memory_bytes|http_requests_total|http_request_duration_seconds_(sum|count)|http_server_request_duration_seconds_(sum|count)|upstream_requests_total|disk_used_bytes|node_filesystem_avail_bytes|container_cpu_usage_seconds_total|container_memory_working_set_bytes|.*_errors_total|.*_failures_total";
/** The onset is searched for this long before the detection (ms): probes fire seconds after a change. */
export const DEFAULT_ONSET_SEARCH_MS = 60_000;
/** Samples on each side of a candidate onset: short, as only seconds of data follow a fresh detection. */
export const DEFAULT_ONSET_WINDOW_SAMPLES = 5;
/** Remediations tried per incident: a wrong first guess is followed by the next-ranked cause. */
export const DEFAULT_LOOP_MAX_ATTEMPTS = 3;
/** After a remediation finishes, how long the incident has to clear before the loop tries again (ms). */
export const DEFAULT_RECHECK_AFTER_MS = 15_000;
/** Score multiplier of an unhealthy service none of whose dependencies is unhealthy (the failure frontier). */
export const DEFAULT_FRONTIER_BOOST = 4;
/** Score multiplier of a service whose probes all pass. */
export const DEFAULT_HEALTHY_FACTOR = 0.2;
/** Largest metric score a candidate keeps (in spreads of its normal period), before graph and probes. */
export const DEFAULT_SCORE_CAP = 10;
/** Score multiplier of a candidate service changed within the change window before the onset. */
export const DEFAULT_CHANGE_BOOST = 2;

export const loopConfigSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe("rank the root cause of every incident that opens and start the matching runbook"),
    remediate: z
      .boolean()
      .default(true)
      .describe("start the best-matching runbook after ranking (false: rank and record only)"),
    diagnose_delay: durationSchema()
      .default(DEFAULT_DIAGNOSE_DELAY_MS)
      .describe("duration to wait after an incident opens before ranking its cause"),
    lookback: durationSchema()
      .default(DEFAULT_DIAGNOSE_LOOKBACK_MS)
      .describe("duration of metrics before the detection read as the normal period"),
    include_series: z
      .array(z.array(matcherSchema).min(1))
      .prefault([[`__name__=~"${DEFAULT_RANKED_METRICS}"`]])
      .describe(
        "series the ranking reads, each entry a list of label matchers that must all match (an empty list reads every series); by default the golden signals and saturation under their usual Prometheus names, since runtime internals (heap spaces, GC) move on every restart and drown the cause",
      ),
    exclude_series: z
      .array(z.array(matcherSchema).min(1))
      .prefault([['job="traces"']])
      .describe(
        "series left out of the ranking, each entry a list of label matchers that must all match; by default the trace RED series, whose one-minute windows lag a change by up to a minute",
      ),
    onset_search: durationSchema()
      .default(DEFAULT_ONSET_SEARCH_MS)
      .describe("duration before the detection in which the onset is estimated"),
    onset_window: z
      .number()
      .int()
      .min(2)
      .default(DEFAULT_ONSET_WINDOW_SAMPLES)
      .describe("samples on each side of a candidate onset"),
    max_attempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(DEFAULT_LOOP_MAX_ATTEMPTS)
      .describe("remediations tried per incident, each on the best cause not yet tried"),
    recheck_after: durationSchema()
      .default(DEFAULT_RECHECK_AFTER_MS)
      .describe("duration the incident has to clear after a remediation before the next attempt"),
    score_cap: z
      .number()
      .positive()
      .default(DEFAULT_SCORE_CAP)
      .describe("largest metric score a candidate keeps, in spreads of its normal period"),
    frontier_boost: z
      .number()
      .min(1)
      .default(DEFAULT_FRONTIER_BOOST)
      .describe("score multiplier for an unhealthy service whose dependencies are healthy"),
    healthy_factor: z
      .number()
      .min(0)
      .max(1)
      .default(DEFAULT_HEALTHY_FACTOR)
      .describe("score multiplier for a service whose probes all pass"),
    change_window: durationSchema()
      .default(DEFAULT_CHANGE_WINDOW_MS)
      .describe("duration; a change to a service this long before the onset makes it a suspect"),
    change_boost: z
      .number()
      .min(1)
      .default(DEFAULT_CHANGE_BOOST)
      .describe("score multiplier for a recently changed candidate"),
  })
  .strict();

export type LoopConfig = z.output<typeof loopConfigSchema>;
