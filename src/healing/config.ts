import { z } from "zod";
import { durationSchema, matcherSchema } from "../core/index.js";

/** CrashLoopBackOff's first delay between remediations of one target (ms). */
export const DEFAULT_BACKOFF_INITIAL_MS = 10_000;
/** CrashLoopBackOff's cap on the doubling delay (ms). */
export const DEFAULT_BACKOFF_MAX_MS = 5 * 60_000;
/** A target continuously healthy this long starts again from the initial delay (ms). */
export const DEFAULT_BACKOFF_RESET_AFTER_MS = 10 * 60_000;
/** Failed remediations of one runbook within the window that open its circuit breaker (count). */
export const DEFAULT_BREAKER_FAILURES = 5;
/** Window in which breaker failures are counted (ms). */
export const DEFAULT_BREAKER_WINDOW_MS = 10 * 60_000;
/** How long an open breaker stays open before one trial is let through (ms). */
export const DEFAULT_BREAKER_COOLDOWN_MS = 5 * 60_000;
/** Share (0-1) of monitored targets not healthy above which healing stops and a human is paged. */
export const DEFAULT_MAX_UNHEALTHY_SHARE = 0.4;
/** Fewer monitored targets than this and the unhealthy limit does not apply (count). */
export const DEFAULT_LIMIT_MIN_TARGETS = 3;
/** Critical continuously for longer than this turns a target failed (ms). */
export const DEFAULT_FAILED_AFTER_MS = 2 * 60_000;
/** Consecutive failed remediations of one target after which it is failed and a human is paged (count). */
export const DEFAULT_MAX_ATTEMPTS = 5;
/** Kubernetes probe defaults: period 10 s, timeout 1 s, failure threshold 3, success threshold 1. */
export const DEFAULT_PROBE_PERIOD_MS = 10_000;
export const DEFAULT_PROBE_TIMEOUT_MS = 1_000;
export const DEFAULT_FAILURE_THRESHOLD = 3;
export const DEFAULT_SUCCESS_THRESHOLD = 1;
export const DEFAULT_INITIAL_DELAY_MS = 0;

const probeConfigSchema = z
  .object({
    name: z.string().min(1),
    http: z
      .object({
        url: z.url(),
        expect_status: z
          .array(z.number().int().min(100).max(599))
          .optional()
          .describe("HTTP statuses that pass; default 200-399"),
      })
      .strict()
      .optional(),
    tcp: z
      .object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) })
      .strict()
      .optional(),
    command: z
      .object({ argv: z.array(z.string()).min(1), cwd: z.string().optional() })
      .strict()
      .optional()
      .describe("passes on exit 0; killed at the timeout"),
    period: durationSchema().default(DEFAULT_PROBE_PERIOD_MS).describe("duration between probes"),
    timeout: durationSchema().default(DEFAULT_PROBE_TIMEOUT_MS).describe("duration; slower probes fail"),
    failure_threshold: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_FAILURE_THRESHOLD)
      .describe("consecutive failures before the probe counts as failing"),
    success_threshold: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_SUCCESS_THRESHOLD)
      .describe("consecutive successes before a failing probe counts as passing"),
    initial_delay: durationSchema()
      .default(DEFAULT_INITIAL_DELAY_MS)
      .describe("duration after the target is added before the first probe"),
    severity: z
      .enum(["critical", "warning"])
      .default("critical")
      .describe("critical probes failing make the target critical; warning ones degraded"),
  })
  .strict()
  .refine((p) => [p.http, p.tcp, p.command].filter((x) => x !== undefined).length === 1, {
    message: "a probe needs exactly one of http, tcp, command",
  });

const policySchema = z
  .object({
    name: z.string().min(1),
    when: z.union([
      z
        .object({
          state: z.array(z.enum(["critical", "failed", "degraded"])).min(1),
          matchers: z.array(matcherSchema).default([]).describe("label matchers on the target's labels"),
        })
        .strict(),
      z
        .object({
          forecast: z
            .array(matcherSchema)
            .default([])
            .describe("label matchers on the forecast: its target's labels plus `metric`"),
        })
        .strict(),
    ]),
    runbook: z.string().min(1),
    params: z
      .record(z.string(), z.string())
      .default({})
      .describe("runbook parameters; {{ target.id }} and {{ target.labels.NAME }} are substituted"),
    shadow: z.boolean().default(false).describe("record what would run (executor shadow mode) only"),
  })
  .strict();

export const healingConfigSchema = z
  .object({
    backoff: z
      .object({
        initial: durationSchema().default(DEFAULT_BACKOFF_INITIAL_MS).describe("duration; first delay"),
        max: durationSchema().default(DEFAULT_BACKOFF_MAX_MS).describe("duration; cap on the doubling"),
        reset_after: durationSchema()
          .default(DEFAULT_BACKOFF_RESET_AFTER_MS)
          .describe("duration continuously healthy after which the delay starts over"),
      })
      .strict()
      .prefault({}),
    breaker: z
      .object({
        failures: z
          .number()
          .int()
          .min(1)
          .default(DEFAULT_BREAKER_FAILURES)
          .describe("failed remediations of a runbook within the window that open its breaker"),
        window: durationSchema().default(DEFAULT_BREAKER_WINDOW_MS).describe("duration"),
        cooldown: durationSchema()
          .default(DEFAULT_BREAKER_COOLDOWN_MS)
          .describe("duration open before one trial is let through"),
      })
      .strict()
      .prefault({}),
    limit: z
      .object({
        max_unhealthy_share: z
          .number()
          .min(0)
          .max(1)
          .default(DEFAULT_MAX_UNHEALTHY_SHARE)
          .describe("share of targets not healthy above which healing stops and pages"),
        min_targets: z
          .number()
          .int()
          .min(0)
          .default(DEFAULT_LIMIT_MIN_TARGETS)
          .describe("targets needed before the limit applies"),
      })
      .strict()
      .prefault({}),
    failed_after: durationSchema()
      .default(DEFAULT_FAILED_AFTER_MS)
      .describe("duration critical after which a target is failed"),
    max_attempts: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_MAX_ATTEMPTS)
      .describe("consecutive failed remediations of a target before it is failed and a human is paged"),
    targets: z
      .array(
        z
          .object({
            id: z.string().min(1),
            labels: z.record(z.string(), z.string()).default({}),
            probes: z.array(probeConfigSchema).min(1),
          })
          .strict(),
      )
      .default([])
      .describe("targets probed from this config"),
    policies: z.array(policySchema).default([]).describe("health state or forecast -> runbook"),
  })
  .strict();

export type HealingConfig = z.output<typeof healingConfigSchema>;
export type HealingPolicy = HealingConfig["policies"][number];
