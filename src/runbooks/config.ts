import { z } from "zod";
import { durationSchema } from "../core/index.js";

/** Actions running at once across all executions (the original design: 5 parallel actions). */
export const DEFAULT_MAX_CONCURRENT = 5;
/** Quiet time after an execution on a target before another may start there (ms). */
export const DEFAULT_TARGET_COOLDOWN_MS = 5 * 60_000;
/** Executions of one runbook allowed per window. */
export const DEFAULT_RUNBOOK_RATE_MAX = 10;
export const DEFAULT_RUNBOOK_RATE_WINDOW_MS = 60 * 60_000;
/** Storm breaker: more executions than this in the window trips the kill switch and pages a human. */
export const DEFAULT_STORM_MAX = 30;
export const DEFAULT_STORM_WINDOW_MS = 10 * 60_000;
/** How long a replica's claim on an execution lasts without renewal (ms). */
export const DEFAULT_LEASE_MS = 30_000;
/** Root-cause confidence a trigger needs by default (the original design: 0.85). */
export const DEFAULT_MIN_CONFIDENCE = 0.85;
/** Steps one execution may start in total, across decision loops. */
export const MAX_STEPS_PER_EXECUTION = 1_000;

export const localProcessSchema = z
  .object({
    name: z.string().min(1),
    argv: z.array(z.string()).min(1),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    replicas: z.number().int().min(0).max(16).optional(),
  })
  .strict();

export const runbooksConfigSchema = z
  .object({
    dirs: z
      .array(z.string())
      .default(["runbooks"])
      .describe("directories of runbook YAML files (the library)"),
    builtin: z.boolean().default(true).describe("load the built-in runbooks too"),
    max_concurrent: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(DEFAULT_MAX_CONCURRENT)
      .describe("executions running steps at once"),
    target_cooldown: durationSchema()
      .default(DEFAULT_TARGET_COOLDOWN_MS)
      .describe("duration between executions on one target"),
    rate: z
      .object({
        max: z.number().int().min(1).default(DEFAULT_RUNBOOK_RATE_MAX),
        window: durationSchema().default(DEFAULT_RUNBOOK_RATE_WINDOW_MS),
      })
      .strict()
      .prefault({})
      .describe("executions per runbook per window"),
    storm: z
      .object({
        max: z.number().int().min(1).default(DEFAULT_STORM_MAX),
        window: durationSchema().default(DEFAULT_STORM_WINDOW_MS),
      })
      .strict()
      .prefault({})
      .describe("global breaker: more executions than max in window halts automation"),
    lease: durationSchema()
      .default(DEFAULT_LEASE_MS)
      .describe("duration of a replica's claim on an execution"),
    shadow: z.boolean().default(false).describe("triggered executions only record what they would do"),
    processes: z.array(localProcessSchema).default([]).describe("processes the local provider supervises"),
  })
  .strict();

export type RunbooksConfig = z.output<typeof runbooksConfigSchema>;
