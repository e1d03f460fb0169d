import { z } from "zod";
import { durationSchema } from "../core/index.js";
import {
  DEFAULT_OTLP_MAX_CONCURRENT_REQUESTS,
  DEFAULT_OTLP_MAX_DECOMPRESSED_BYTES,
  DEFAULT_OTLP_MAX_QUEUE_SPANS,
  DEFAULT_OTLP_RETRY_AFTER_SECONDS,
} from "./otlp-receiver.js";
import { DEFAULT_RED_WINDOW_MS } from "./red-window.js";
import {
  DEFAULT_EDGE_WAIT_MS,
  DEFAULT_MAX_EDGES,
  DEFAULT_MAX_PENDING_EDGES,
  DEFAULT_MAX_SERVICES,
} from "./service-graph.js";

/** How often a target is scraped when it names no interval, and how long a scrape may take. */
export const DEFAULT_SCRAPE_INTERVAL_MS = 15_000;
export const DEFAULT_SCRAPE_TIMEOUT_MS = 10_000;
/** Largest scrape response read (bytes); a larger body fails the scrape. */
export const DEFAULT_SCRAPE_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Samples kept per series: 15 minutes at a 15 s interval. */
export const DEFAULT_SAMPLES_PER_SERIES = 60;
/** Series held in memory at once; new ones beyond it are dropped and counted. 100,000 x 60 x 16 B = 96 MB. */
export const DEFAULT_MAX_SERIES = 100_000;
/** A series with no sample for this long ends and its memory is released. */
export const DEFAULT_SERIES_STALE_AFTER_MS = 5 * 60_000;
/** How often the PromQL source runs its queries. */
export const DEFAULT_PROMQL_INTERVAL_MS = 30_000;
export const DEFAULT_PROMQL_TIMEOUT_MS = 10_000;
/** How far ahead predictive alerts look, and how much history the linear trend is fitted on. */
export const DEFAULT_PREDICTIVE_HORIZON_MS = 60 * 60_000;
export const DEFAULT_PREDICTIVE_MIN_SAMPLES = 8;
/** Consecutive normal samples before an anomaly alert on a series resolves. */
export const DEFAULT_ANOMALY_RESOLVE_AFTER_SAMPLES = 3;

const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "a Prometheus label name");

export const scrapeTargetSchema = z
  .object({
    url: z.url().describe("http(s) URL of the /metrics endpoint"),
    job: z.string().min(1).describe("value of the job label"),
    instance: z
      .string()
      .min(1)
      .optional()
      .describe("value of the instance label; default host:port of the URL"),
    service: z.string().min(1).optional().describe("value of the service label; default the job"),
    interval: durationSchema().optional().describe("duration between scrapes; default scrape.interval"),
    timeout: durationSchema().optional().describe("duration a scrape may take; default scrape.timeout"),
    labels: z
      .record(labelName, z.string())
      .default({})
      .describe("extra labels on every series of the target"),
  })
  .strict();

export const predictiveRuleSchema = z
  .object({
    name: z.string().min(1).describe("rule name; becomes the alert's rule label"),
    match: z
      .record(z.string(), z.string())
      .refine((m) => Object.keys(m).length > 0, "match at least one label (e.g. __name__)")
      .describe("labels a series must have (exact values)"),
    threshold: z.number().describe("value the series must not cross"),
    direction: z.enum(["above", "below"]).default("above").describe("crossing upwards or downwards"),
    horizon: durationSchema().optional().describe("duration to look ahead; default predictive.horizon"),
    severity: z.string().default("warning").describe("severity label of the alert"),
  })
  .strict();

export const telemetryConfigSchema = z
  .object({
    scrape: z
      .object({
        interval: durationSchema().default(DEFAULT_SCRAPE_INTERVAL_MS).describe("duration between scrapes"),
        timeout: durationSchema().default(DEFAULT_SCRAPE_TIMEOUT_MS).describe("duration a scrape may take"),
        max_body_bytes: z.number().int().positive().default(DEFAULT_SCRAPE_MAX_BODY_BYTES).describe("bytes"),
        targets: z.array(scrapeTargetSchema).default([]),
      })
      .strict()
      .prefault({}),
    prometheus: z
      .object({
        url: z
          .url()
          .optional()
          .describe("base URL of a Prometheus-compatible HTTP API; unset disables the source"),
        interval: durationSchema()
          .default(DEFAULT_PROMQL_INTERVAL_MS)
          .describe("duration between query rounds"),
        timeout: durationSchema().default(DEFAULT_PROMQL_TIMEOUT_MS).describe("duration a query may take"),
        queries: z
          .array(
            z
              .object({
                name: z.string().min(1).describe("becomes the __name__ of the resulting series"),
                query: z.string().min(1).describe("PromQL expression (instant query)"),
                service_label: labelName.default("service").describe("result label naming the service"),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    series: z
      .object({
        max_series: z.number().int().positive().default(DEFAULT_MAX_SERIES).describe("series held in memory"),
        samples_per_series: z
          .number()
          .int()
          .min(4)
          .default(DEFAULT_SAMPLES_PER_SERIES)
          .describe("ring buffer length, samples"),
        stale_after: durationSchema()
          .default(DEFAULT_SERIES_STALE_AFTER_MS)
          .describe("duration without samples after which a series ends"),
      })
      .strict()
      .prefault({}),
    anomaly: z
      .object({
        resolve_after_samples: z
          .number()
          .int()
          .positive()
          .default(DEFAULT_ANOMALY_RESOLVE_AFTER_SAMPLES)
          .describe("consecutive normal samples before an anomaly alert resolves"),
      })
      .strict()
      .prefault({}),
    predictive: z
      .object({
        horizon: durationSchema().default(DEFAULT_PREDICTIVE_HORIZON_MS).describe("duration to look ahead"),
        min_samples: z
          .number()
          .int()
          .min(3)
          .default(DEFAULT_PREDICTIVE_MIN_SAMPLES)
          .describe("samples needed before a trend is trusted"),
        rules: z.array(predictiveRuleSchema).default([]),
      })
      .strict()
      .prefault({}),
    otlp: z
      .object({
        enabled: z.boolean().default(true).describe("serve POST /v1/traces"),
        max_queue_spans: z
          .number()
          .int()
          .positive()
          .default(DEFAULT_OTLP_MAX_QUEUE_SPANS)
          .describe("spans waiting for processing; beyond it 503 + Retry-After"),
        max_concurrent_requests: z
          .number()
          .int()
          .positive()
          .default(DEFAULT_OTLP_MAX_CONCURRENT_REQUESTS)
          .describe("requests decoded at once; beyond it 429 + Retry-After"),
        max_decompressed_bytes: z
          .number()
          .int()
          .positive()
          .default(DEFAULT_OTLP_MAX_DECOMPRESSED_BYTES)
          .describe("bytes after gzip decompression"),
        retry_after_seconds: z
          .number()
          .int()
          .positive()
          .default(DEFAULT_OTLP_RETRY_AFTER_SECONDS)
          .describe("seconds, sent in Retry-After"),
      })
      .strict()
      .prefault({}),
    service_graph: z
      .object({
        window: durationSchema()
          .default(DEFAULT_RED_WINDOW_MS)
          .describe("duration rates and percentiles cover"),
        edge_wait: durationSchema()
          .default(DEFAULT_EDGE_WAIT_MS)
          .describe("duration a client or server span waits for its other half"),
        max_pending_edges: z
          .number()
          .int()
          .positive()
          .default(DEFAULT_MAX_PENDING_EDGES)
          .describe("half-calls held"),
        max_services: z.number().int().positive().default(DEFAULT_MAX_SERVICES),
        max_edges: z.number().int().positive().default(DEFAULT_MAX_EDGES),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type TelemetryConfig = z.output<typeof telemetryConfigSchema>;
export type ScrapeTargetConfig = z.output<typeof scrapeTargetSchema>;
export type PredictiveRule = z.output<typeof predictiveRuleSchema>;
