import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { describeIssues, durationSchema, ValidationError, type ErrorDetail } from "../core/index.js";
import { SHOP_SERVICES, type ShopService } from "../demo/index.js";

export const FAULT_KINDS = [
  "process-kill",
  "process-pause",
  "latency",
  "http-errors",
  "cpu-hog",
  "memory-leak",
  "disk-fill",
  "bad-config",
  "partition",
  "clock-skew",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Longest a scenario's fault may stay in place before the runner removes it itself (ms). */
export const DEFAULT_SCENARIO_DURATION_MS = 90_000;
export const MAX_SCENARIO_DURATION_MS = 15 * 60_000;
export const DEFAULT_LATENCY_MS = 800;
export const DEFAULT_ERROR_RATE = 0.5;
export const DEFAULT_CPU_SHARE = 0.95;
export const DEFAULT_LEAK_MB_PER_S = 20;
/** Written into the shop's logs by disk-fill: more than the store's default quota (256 MB). */
export const DEFAULT_DISK_FILL_MB = 300;
export const DEFAULT_CLOCK_SKEW_S = 600;

const paramsByFault: { [K in FaultKind]: z.ZodType } = {
  "process-kill": z.object({ signal: z.enum(["SIGKILL", "SIGTERM", "SIGSEGV"]).default("SIGKILL") }).strict(),
  "process-pause": z.object({}).strict(),
  latency: z
    .object({
      ms: z.number().int().min(1).max(60_000).default(DEFAULT_LATENCY_MS).describe("added per request"),
    })
    .strict(),
  "http-errors": z
    .object({ rate: z.number().gt(0).max(1).default(DEFAULT_ERROR_RATE).describe("share answered 500") })
    .strict(),
  "cpu-hog": z
    .object({ share: z.number().gt(0).max(1).default(DEFAULT_CPU_SHARE).describe("share of a core burnt") })
    .strict(),
  "memory-leak": z
    .object({
      mb_per_s: z.number().gt(0).max(200).default(DEFAULT_LEAK_MB_PER_S).describe("MB retained per s"),
    })
    .strict(),
  "disk-fill": z
    .object({ mb: z.number().int().min(1).max(4096).default(DEFAULT_DISK_FILL_MB).describe("MB written") })
    .strict(),
  "bad-config": z
    .object({
      config: z
        .record(z.string(), z.unknown())
        .optional()
        .describe("keys merged into the service's config; default: a timeout that breaks it"),
    })
    .strict(),
  partition: z.object({ peer: z.enum(SHOP_SERVICES).describe("the other side") }).strict(),
  "clock-skew": z
    .object({
      seconds: z
        .number()
        .int()
        .min(-86_400 * 365)
        .max(86_400 * 365)
        .default(DEFAULT_CLOCK_SKEW_S),
    })
    .strict(),
};

const severity = z.enum(["P0", "P1", "P2", "P3"]);

const rawScenarioSchema = z
  .object({
    name: z.string().min(1).max(120),
    target: z.enum(SHOP_SERVICES).describe("the demo service the fault hits"),
    fault: z.enum(FAULT_KINDS),
    params: z.record(z.string(), z.unknown()).default({}),
    duration: durationSchema()
      .default(DEFAULT_SCENARIO_DURATION_MS)
      .describe(
        "duration the fault may stay before the runner removes it (the platform has this long to repair)",
      ),
    expect: z
      .object({
        root_cause: z
          .enum(SHOP_SERVICES)
          .optional()
          .describe("service the RCA should rank first; default target"),
        severity: severity.default("P1").describe("P0 scenarios must recover within 60 s"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export interface Scenario {
  name: string;
  target: ShopService;
  fault: FaultKind;
  params: Record<string, unknown>;
  durationMs: number;
  expect: { rootCause: ShopService; severity: "P0" | "P1" | "P2" | "P3" };
}

const docSchema = z.object({ scenarios: z.array(z.unknown()).min(1, "list at least one scenario") }).strict();

/**
 * Validates a scenario file's parsed content: each scenario's shape, its fault's params, names unique,
 * partition peers; every problem of every scenario is reported at once, with its path.
 */
export function parseScenarios(doc: unknown, source = "scenarios"): Scenario[] {
  const fail = (problems: ErrorDetail[]) =>
    new ValidationError(`${source} is not a valid scenario file`, problems);
  let list: unknown[];
  if (Array.isArray(doc)) list = doc;
  else {
    const r = docSchema.safeParse(doc);
    if (!r.success) throw fail(describeIssues(docSchema, r.error.issues));
    list = r.data.scenarios;
  }
  if (list.length === 0) throw fail([{ path: "", message: "list at least one scenario" }]);
  const problems: ErrorDetail[] = [];
  const names = new Set<string>();
  const out: Scenario[] = [];
  list.forEach((raw, i) => {
    const r = rawScenarioSchema.safeParse(raw);
    if (!r.success) {
      for (const d of describeIssues(rawScenarioSchema, r.error.issues))
        problems.push({ path: `[${i}]${d.path ? `.${d.path}` : ""}`, message: d.message });
      return;
    }
    const s = r.data;
    if (names.has(s.name)) problems.push({ path: `[${i}].name`, message: `"${s.name}" is used twice` });
    names.add(s.name);
    if (s.duration > MAX_SCENARIO_DURATION_MS)
      problems.push({
        path: `[${i}].duration`,
        message: `at most ${MAX_SCENARIO_DURATION_MS / 60_000} minutes`,
      });
    const ps = paramsByFault[s.fault].safeParse(s.params);
    if (!ps.success) {
      for (const d of describeIssues(paramsByFault[s.fault], ps.error.issues))
        problems.push({ path: `[${i}].params${d.path ? `.${d.path}` : ""}`, message: d.message });
      return;
    }
    const params = ps.data as Record<string, unknown>;
    if (s.fault === "partition" && params["peer"] === s.target)
      problems.push({ path: `[${i}].params.peer`, message: "a service cannot be partitioned from itself" });
    out.push({
      name: s.name,
      target: s.target,
      fault: s.fault,
      params,
      durationMs: s.duration,
      expect: { rootCause: s.expect.root_cause ?? s.target, severity: s.expect.severity },
    });
  });
  if (problems.length) throw fail(problems);
  return out;
}

export async function loadScenarioFile(path: string): Promise<Scenario[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ValidationError(
      `cannot read scenario file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      [],
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ValidationError(`${path} is not valid YAML: ${(err as Error).message}`, []);
  }
  return parseScenarios(doc, path);
}
