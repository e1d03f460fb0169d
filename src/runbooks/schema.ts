import { z } from "zod";
import { durationSchema, parseMatcher, type Matcher as CoreMatcher } from "../core/index.js";
import { ACTION_VERBS } from "../providers/index.js";

/** Output kept per command step (stdout and stderr each); the rest is cut and marked truncated. */
export const DEFAULT_OUTPUT_LIMIT_BYTES = 64 * 1024;
/** A command or HTTP step with no timeout of its own gets this one (ms). */
export const DEFAULT_STEP_TIMEOUT_MS = 5 * 60_000;
/** How long an approval or manual task waits for a person by default (ms). */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 60 * 60_000;
/** A validate probe with no deadline gives up after this long (ms). */
export const DEFAULT_VALIDATE_DEADLINE_MS = 2 * 60_000;
/** Pause between validate probe attempts (ms). */
export const DEFAULT_VALIDATE_INTERVAL_MS = 5_000;
/** First backoff of HTTP retries (ms); doubles per attempt. */
export const DEFAULT_RETRY_BACKOFF_MS = 1_000;

export const RISK_LEVELS = ["low", "medium", "high", "critical"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

const id = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,62}$/, "lowercase letters, digits, _ and -, starting with a letter");

const matcherObject = z
  .object({
    label: z.string().min(1),
    op: z.enum(["=", "!=", "=~", "!~"]),
    value: z.string(),
  })
  .strict();

/**
 * A label matcher, Alertmanager-style: an object `{label, op, value}` or the text form
 * `alertname=~"Disk.*"`; both parse to core's matcher (regexes fully anchored).
 */
export const matcherSchema = z.union([matcherObject, z.string()]).transform((m, ctx): CoreMatcher => {
  const r = parseMatcher(typeof m === "string" ? m : `${m.label}${m.op}${JSON.stringify(m.value)}`);
  if (r.status === "error") {
    ctx.addIssue({
      code: "custom",
      message: `${r.error} (use e.g. service="api" or alertname=~"Disk.*")`,
    });
    return z.NEVER;
  }
  return r.value;
});
export type Matcher = z.output<typeof matcherSchema>;

export const paramSchema = z
  .object({
    type: z.enum(["string", "number", "boolean", "url"]).default("string"),
    description: z.string().optional(),
    required: z.boolean().default(false),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    pattern: z
      .string()
      .optional()
      .describe("regular expression the whole value must match (anchored)")
      .refine(
        (p) => {
          if (p === undefined) return true;
          try {
            new RegExp(p);
            return true;
          } catch {
            return false;
          }
        },
        { message: "not a valid regular expression" },
      ),
    max_length: z.number().int().positive().default(256).describe("characters"),
    enum: z.array(z.string()).optional(),
  })
  .strict();
export type ParamSpec = z.output<typeof paramSchema>;

export const secretRefSchema = z.union([
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) }).strict(),
  z.object({ file: z.string().min(1) }).strict(),
]);
export type SecretRef = z.output<typeof secretRefSchema>;

const templ = z.string().max(10_000);
const envSchema = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable name"), templ);

const commandFields = {
  argv: z.array(templ).min(1).describe("program and arguments; never run through a shell"),
  env: envSchema.optional(),
  cwd: z.string().optional(),
  timeout: durationSchema().optional(),
  expect_exit: z.array(z.number().int()).default([0]),
  output_limit_bytes: z
    .number()
    .int()
    .positive()
    .max(16 * 1024 * 1024)
    .default(DEFAULT_OUTPUT_LIMIT_BYTES),
};

const httpFields = {
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]).default("GET"),
  url: templ.describe("substituted values are percent-encoded, except a leading absolute http(s) URL"),
  headers: z.record(z.string(), templ).optional(),
  body: z.unknown().optional().describe("JSON value (string leaves are templates) or a string"),
  expect_status: z.array(z.number().int().min(100).max(599)).optional().describe("default: any 2xx"),
  timeout: durationSchema().optional(),
};

const retrySchema = z
  .object({
    attempts: z.number().int().min(1).max(20).default(1),
    backoff: durationSchema().default(DEFAULT_RETRY_BACKOFF_MS),
  })
  .strict();

const probeSchema = z.union([
  z.object({ http: z.object(httpFields).strict() }).strict(),
  z.object({ tcp: z.object({ host: templ, port: z.union([z.number().int(), templ]) }).strict() }).strict(),
  z.object({ command: z.object(commandFields).strict() }).strict(),
  z
    .object({
      metric: z
        .object({
          query: templ.describe("PromQL, answered by the configured metric source"),
          expect: z.string().describe('expression over `value`, e.g. "value < 0.01"'),
        })
        .strict(),
    })
    .strict(),
]);
export type Probe = z.output<typeof probeSchema>;

const common = {
  id,
  name: z.string().optional(),
  when: z.string().optional().describe("expression; the step is skipped when false"),
  on_failure: z.enum(["rollback", "continue", "abort"]).default("rollback"),
  idempotent: z
    .boolean()
    .optional()
    .describe("safe to run again after a crash; defaults to true for read-only kinds"),
  retry: retrySchema.optional(),
};

const actionFields = {
  provider: z.string().default("local"),
  verb: z.enum(ACTION_VERBS),
  target: templ,
  args: z.record(z.string(), z.union([templ, z.number(), z.boolean()])).optional(),
  timeout: durationSchema().optional(),
};

/** Steps a rollback may run: the kinds that change something. */
const rollbackSchema = z.union([
  z.object({ kind: z.literal("command"), ...commandFields }).strict(),
  z
    .object({
      kind: z.literal("script"),
      path: z.string(),
      args: z.array(templ).default([]),
      env: envSchema.optional(),
      timeout: durationSchema().optional(),
    })
    .strict(),
  z.object({ kind: z.literal("http"), ...httpFields }).strict(),
  z.object({ kind: z.literal("action"), ...actionFields }).strict(),
]);
export type RollbackSpec = z.output<typeof rollbackSchema>;

const withRollback = { rollback: rollbackSchema.optional() };

export const stepSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("command"), ...common, ...commandFields, ...withRollback }).strict(),
  z
    .object({
      kind: z.literal("script"),
      ...common,
      path: z.string().describe("script file, relative to the runbook file"),
      args: z.array(templ).default([]),
      env: envSchema.optional(),
      timeout: durationSchema().optional(),
      expect_exit: z.array(z.number().int()).default([0]),
      output_limit_bytes: z.number().int().positive().default(DEFAULT_OUTPUT_LIMIT_BYTES),
      ...withRollback,
    })
    .strict(),
  z.object({ kind: z.literal("http"), ...common, ...httpFields, ...withRollback }).strict(),
  z.object({ kind: z.literal("action"), ...common, ...actionFields, ...withRollback }).strict(),
  z.object({ kind: z.literal("wait"), ...common, duration: durationSchema() }).strict(),
  z
    .object({
      kind: z.literal("approval"),
      ...common,
      message: z.string().optional(),
      role: z.enum(["operator", "admin"]).default("operator"),
      timeout: durationSchema().default(DEFAULT_APPROVAL_TIMEOUT_MS),
    })
    .strict(),
  z
    .object({
      kind: z.literal("decision"),
      ...common,
      branches: z.array(z.object({ if: z.string(), goto: z.string() }).strict()).min(1),
      else: z.string().optional().describe('step id, or "end"; default: the next step'),
    })
    .strict(),
  z
    .object({
      kind: z.literal("validate"),
      ...common,
      probe: probeSchema,
      deadline: durationSchema().default(DEFAULT_VALIDATE_DEADLINE_MS),
      interval: durationSchema().default(DEFAULT_VALIDATE_INTERVAL_MS),
    })
    .strict(),
  z
    .object({
      kind: z.literal("manual"),
      ...common,
      instructions: z.string(),
      timeout: durationSchema().default(DEFAULT_APPROVAL_TIMEOUT_MS),
    })
    .strict(),
]);
export type Step = z.output<typeof stepSchema>;
export type StepKind = Step["kind"];

export const triggerSchema = z
  .object({
    matchers: z.array(matcherSchema).min(1).describe("all must match the incident's labels"),
    min_confidence: z.number().min(0).max(1).default(0.85).describe("root-cause confidence needed"),
    priority: z
      .number()
      .int()
      .default(0)
      .describe("when several runbooks match one incident, the highest priority is tried first"),
    params: z.record(z.string(), templ).default({}).describe("templates over incident.labels"),
    verify: z
      .object({ deadline: durationSchema().default(5 * 60_000) })
      .strict()
      .prefault({})
      .describe("after success, the incident's signal must clear within the deadline"),
  })
  .strict();
export type Trigger = z.output<typeof triggerSchema>;

export const runbookSchema = z
  .object({
    apiVersion: z.literal("novasre/v1").default("novasre/v1"),
    name: id,
    description: z.string().default(""),
    category: z.string().default("general"),
    severity: z.enum(["P0", "P1", "P2", "P3"]).optional(),
    risk: z.enum(RISK_LEVELS).default("medium"),
    draft: z.boolean().default(false).describe("drafts may be dry-run or shadowed, never run live"),
    estimated_duration: durationSchema().optional(),
    target: templ
      .optional()
      .describe('what the runbook changes, e.g. "{{ params.service }}"; guards key on it'),
    params: z.record(z.string().regex(/^[a-z_][a-z0-9_]*$/), paramSchema).default({}),
    secrets: z.record(z.string().regex(/^[a-z_][a-z0-9_]*$/), secretRefSchema).default({}),
    on_interrupt: z
      .enum(["rollback", "mark_interrupted"])
      .default("mark_interrupted")
      .describe("after a crash during a step that is not idempotent"),
    triggers: z.array(triggerSchema).default([]),
    steps: z.array(stepSchema).min(1),
  })
  .strict()
  .superRefine((rb, ctx) => {
    if (rb.risk === "high" || rb.risk === "critical") {
      // Approvals by risk: a person must approve the plan before the first step that can change anything.
      const firstChange = rb.steps.findIndex((s) => CHANGING_KINDS.has(s.kind));
      const firstApproval = rb.steps.findIndex((s) => s.kind === "approval");
      if (firstChange >= 0 && (firstApproval < 0 || firstApproval > firstChange))
        ctx.addIssue({
          code: "custom",
          path: ["steps", firstChange],
          message: `a ${rb.risk}-risk runbook needs an approval step before its first ${rb.steps[firstChange]?.kind} step`,
        });
    }
    const ids = new Set<string>();
    rb.steps.forEach((s, i) => {
      if (ids.has(s.id))
        ctx.addIssue({ code: "custom", path: ["steps", i, "id"], message: `duplicate step id "${s.id}"` });
      ids.add(s.id);
    });
    rb.steps.forEach((s, i) => {
      if (s.kind === "decision") {
        s.branches.forEach((b, j) => {
          if (b.goto !== "end" && !ids.has(b.goto))
            ctx.addIssue({
              code: "custom",
              path: ["steps", i, "branches", j, "goto"],
              message: `no step "${b.goto}"`,
            });
        });
        if (s.else !== undefined && s.else !== "end" && !ids.has(s.else))
          ctx.addIssue({ code: "custom", path: ["steps", i, "else"], message: `no step "${s.else}"` });
      }
      const argvs: { argv: string[]; path: (string | number)[] }[] = [];
      if (s.kind === "command") argvs.push({ argv: s.argv, path: ["steps", i, "argv"] });
      if (s.kind === "validate" && "command" in s.probe)
        argvs.push({ argv: s.probe.command.argv, path: ["steps", i, "probe", "command", "argv"] });
      if (
        (s.kind === "command" || s.kind === "http" || s.kind === "action" || s.kind === "script") &&
        s.rollback?.kind === "command"
      )
        argvs.push({ argv: s.rollback.argv, path: ["steps", i, "rollback", "argv"] });
      for (const a of argvs) {
        const problem = shellSpliceProblem(a.argv);
        if (problem)
          ctx.addIssue({ code: "custom", path: [...a.path, problem.index], message: problem.message });
      }
    });
  });
export type Runbook = z.output<typeof runbookSchema>;
export type RunbookInput = z.input<typeof runbookSchema>;

const INTERPRETERS = new Set([
  "sh",
  "bash",
  "dash",
  "zsh",
  "ksh",
  "ash",
  "fish",
  "csh",
  "tcsh",
  "busybox",
  "python",
  "python3",
  "perl",
  "ruby",
  "node",
  "su",
]);
/** Programs that join their arguments into a remote shell command line. */
const JOINERS = new Set(["ssh"]);
const CODE_FLAG = /^(-[a-zA-Z]*[ce]|--eval|--command)$/;

/**
 * A template inside the code text of `sh -c` (or an interpreter's -c/-e, or ssh's remote command)
 * would splice values into code. Values must go in as their own argv elements or as environment
 * variables instead.
 */
export function shellSpliceProblem(argv: readonly string[]): { index: number; message: string } | undefined {
  const prog = (argv[0] ?? "").split("/").pop() ?? "";
  const joins = JOINERS.has(prog);
  if (!joins && !(INTERPRETERS.has(prog) && argv.slice(1).some((a) => CODE_FLAG.test(a)))) return undefined;
  for (let i = 1; i < argv.length; i++) {
    if ((argv[i] ?? "").includes("{{"))
      return {
        index: i,
        message: `template inside code run by ${prog}: values would be interpreted as code; pass them as environment variables (env:) and refer to "$NAME" instead`,
      };
  }
  return undefined;
}

/** The JSON Schema of the runbook file (input form), generated from the zod schema. */
export function runbookJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(runbookSchema, { io: "input", unrepresentable: "any" });
}

/** Kinds that may change a system. */
export const CHANGING_KINDS: ReadonlySet<StepKind> = new Set(["command", "script", "http", "action"]);

/** Kinds that read and never change anything: safe to run again after a crash. */
export const READ_ONLY_KINDS: ReadonlySet<StepKind> = new Set([
  "wait",
  "decision",
  "validate",
  "approval",
  "manual",
]);

export function isIdempotent(step: Step): boolean {
  return step.idempotent ?? READ_ONLY_KINDS.has(step.kind);
}
