import { z } from "zod";
import { durationSchema } from "../core/index.js";
import { toxicInputSchema } from "./toxics.js";

/** Default timeout of one probe or action. */
export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;
/** Default time between guard checks; an abort happens within two of these. */
export const DEFAULT_GUARD_INTERVAL_MS = 1_000;
/** How long, after the faults are reverted, the steady state may take to hold again. */
export const DEFAULT_RECOVERY_TIMEOUT_MS = 60_000;
/** How often the steady state is checked while waiting for recovery. */
export const DEFAULT_RECOVERY_POLL_MS = 250;
/** Samples of each baseline probe taken just before the run (median kept). */
export const BASELINE_SAMPLES = 3;

export const LEVELS = ["dry-run", "dev", "staging", "canary", "production"] as const;
export type Level = (typeof LEVELS)[number];

const str = z.string();
const argv = z.array(str).min(1);

export const httpProbeSchema = z
  .object({
    url: str,
    method: str.default("GET"),
    headers: z.record(str, str).default({}),
    body: z.unknown().optional(),
    timeout: durationSchema().default(DEFAULT_PROBE_TIMEOUT_MS),
  })
  .strict();
export const processProbeSchema = z
  .object({
    argv,
    cwd: str.optional(),
    env: z.record(str, str).default({}),
    timeout: durationSchema().default(DEFAULT_PROBE_TIMEOUT_MS),
  })
  .strict();
export const metricProbeSchema = z
  .object({
    /** A Prometheus text exposition endpoint. */
    url: str,
    name: str,
    labels: z.record(str, str).default({}),
    timeout: durationSchema().default(DEFAULT_PROBE_TIMEOUT_MS),
  })
  .strict();

export const toleranceSchema = z
  .object({
    /** Which part of the probe output: status, body, json, time_ms (http); exit_code, stdout, stderr (process); value (metric). */
    target: z
      .enum(["status", "body", "json", "time_ms", "exit_code", "stdout", "stderr", "value"])
      .optional(),
    equals: z.unknown().optional(),
    one_of: z.array(z.unknown()).optional(),
    range: z.tuple([z.number(), z.number()]).optional(),
    regex: str.optional(),
    jsonpath: str.optional(),
    baseline: z
      .object({
        max_increase_pct: z.number().nonnegative().optional(),
        max_decrease_pct: z.number().nonnegative().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Tolerance = z.output<typeof toleranceSchema>;

export const probeSchema = z
  .object({
    name: str.min(1),
    http: httpProbeSchema.optional(),
    process: processProbeSchema.optional(),
    metric: metricProbeSchema.optional(),
    tolerance: toleranceSchema.optional(),
  })
  .strict()
  .refine((p) => [p.http, p.process, p.metric].filter(Boolean).length === 1, {
    message: "a probe needs exactly one of http, process, metric",
  });
export type Probe = z.output<typeof probeSchema>;

const selectorSchema = z
  .object({
    pid: z.number().int().positive().optional(),
    pidfile: str.optional(),
    pattern: str.optional(),
    count: z.number().int().positive().optional(),
    share: z.number().gt(0).max(1).optional(),
  })
  .strict()
  .refine((s) => [s.pid, s.pidfile, s.pattern].filter((x) => x !== undefined).length === 1, {
    message: "a target needs exactly one of pid, pidfile, pattern",
  })
  .refine(
    (s) => {
      if (s.pattern === undefined) return true;
      try {
        new RegExp(s.pattern);
        return true;
      } catch {
        return false;
      }
    },
    { message: "pattern is not a valid regular expression" },
  );

const faultCommon = {
  name: str.min(1),
  /** Revert after this long; without it the fault holds until the method ends. */
  duration: durationSchema().optional(),
};

export const faultSpecSchema = z.discriminatedUnion("type", [
  z
    .object({
      ...faultCommon,
      type: z.literal("toxic"),
      /** Name of a proxy from `proxies`, or on the proxy API at `api`. */
      proxy: str,
      api: str.optional(),
      toxic: toxicInputSchema,
    })
    .strict(),
  z
    .object({
      ...faultCommon,
      type: z.literal("process-kill"),
      target: selectorSchema,
      signal: str.default("SIGKILL"),
    })
    .strict(),
  z.object({ ...faultCommon, type: z.literal("process-pause"), target: selectorSchema }).strict(),
  z
    .object({
      ...faultCommon,
      type: z.literal("process-restart"),
      target: selectorSchema,
      signal: str.default("SIGTERM"),
      /** Started (detached) after the kill; omit when a supervisor restarts the process. */
      command: argv.optional(),
      /** Wait this long for the process to exit before starting the command. */
      grace: durationSchema().default(2_000),
    })
    .strict(),
  z
    .object({
      ...faultCommon,
      type: z.literal("cpu"),
      workers: z.number().int().positive().max(256),
      load_pct: z.number().int().min(1).max(100),
    })
    .strict(),
  z.object({ ...faultCommon, type: z.literal("memory"), mb: z.number().int().positive() }).strict(),
  z
    .object({ ...faultCommon, type: z.literal("disk-fill"), path: str, mb: z.number().int().positive() })
    .strict(),
  z
    .object({
      ...faultCommon,
      type: z.literal("net-loss"),
      namespace: str,
      percent: z.number().gt(0).max(100),
      port: z.number().int().min(1).max(65535).optional(),
    })
    .strict(),
  z
    .object({
      ...faultCommon,
      type: z.literal("net-partition"),
      namespace: str,
      /** IPv4 address or CIDR cut off from the namespace, both ways. */
      peer: str,
    })
    .strict(),
  z
    .object({
      ...faultCommon,
      type: z.literal("net-bandwidth"),
      namespace: str,
      device: str,
      /** tc rate, e.g. "1mbit". */
      rate: str.regex(/^\d+(\.\d+)?(bit|kbit|mbit|gbit|bps|kbps|mbps)$/),
    })
    .strict(),
  z
    .object({
      ...faultCommon,
      type: z.literal("net-latency"),
      namespace: str,
      device: str,
      delay: durationSchema(),
    })
    .strict(),
  z
    .object({
      ...faultCommon,
      type: z.literal("time-skew"),
      /** The FAKETIME_TIMESTAMP_FILE of a process started with `novasre chaos exec --clock-file`. */
      clock_file: str,
      /** libfaketime offset, e.g. "+2h", "-30m", "+1d". */
      offset: str.regex(/^[+-]\d+(\.\d+)?[smhdy]?$/),
    })
    .strict(),
]);
export type FaultSpec = z.output<typeof faultSpecSchema>;
export type FaultType = FaultSpec["type"];

const actionSchema = z
  .object({
    name: str.min(1),
    http: httpProbeSchema.optional(),
    process: processProbeSchema.optional(),
  })
  .strict()
  .refine((a) => [a.http, a.process].filter(Boolean).length === 1, {
    message: "an action needs exactly one of http, process",
  });
export type ActionStep = z.output<typeof actionSchema>;

export const stepSchema = z.union([
  z.object({ fault: faultSpecSchema }).strict(),
  z.object({ wait: durationSchema() }).strict(),
  z.object({ probe: probeSchema }).strict(),
  z.object({ action: actionSchema }).strict(),
]);
export type Step = z.output<typeof stepSchema>;

const configValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.object({ env: str, default: z.union([z.string(), z.number()]).optional() }).strict(),
]);

export const experimentSchema = z
  .object({
    version: z.literal(1).default(1),
    title: str.min(1),
    description: str.default(""),
    tags: z.array(str).default([]),
    configuration: z.record(str, configValue).default({}),
    /** Values read from the environment; never written to the journal. */
    secrets: z.record(str, z.object({ env: str }).strict()).default({}),
    blast_radius: z
      .object({
        max_targets: z.number().int().nonnegative().optional(),
        max_share: z.number().min(0).max(1).optional(),
      })
      .strict()
      .prefault({}),
    proxies: z
      .array(
        z
          .object({ name: str, listen: str, upstream: str, mode: z.enum(["tcp", "http"]).default("tcp") })
          .strict(),
      )
      .default([]),
    steady_state: z
      .object({ title: str.default("steady state"), probes: z.array(probeSchema).default([]) })
      .strict()
      .prefault({}),
    guards: z
      .object({
        interval: durationSchema().default(DEFAULT_GUARD_INTERVAL_MS),
        probes: z.array(probeSchema).default([]),
      })
      .strict()
      .prefault({}),
    method: z.array(stepSchema).min(1),
    rollbacks: z.array(actionSchema).default([]),
    recovery_timeout: durationSchema().default(DEFAULT_RECOVERY_TIMEOUT_MS),
    /** Keep polling the platform this long after recovery for its incident to resolve. */
    platform_wait: durationSchema().default(0),
  })
  .strict();
export type Experiment = z.output<typeof experimentSchema>;
export type ExperimentInput = z.input<typeof experimentSchema>;
