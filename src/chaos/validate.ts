import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { describeIssues, fail, ok, type ErrorDetail, type Result } from "../core/index.js";
import { fromChaosToolkit, isChaosToolkit } from "./ctk.js";
import { experimentSchema, type Experiment } from "./experiment.js";
import { parseToxic } from "./toxics.js";

export interface LoadedExperiment {
  format: "novasre" | "chaostoolkit";
  experiment?: Experiment;
  problems: ErrorDetail[];
}

/** Parses an experiment (ours or Chaos Toolkit's, JSON or YAML) and lists every problem found. */
export function parseExperiment(text: string, file = "experiment"): LoadedExperiment {
  let doc: unknown;
  try {
    doc = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    return {
      format: "novasre",
      problems: [
        {
          path: "",
          message: `not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message}`,
        },
      ],
    };
  }
  let format: LoadedExperiment["format"] = "novasre";
  if (isChaosToolkit(doc)) {
    format = "chaostoolkit";
    const t = fromChaosToolkit(doc);
    if (t.problems.length) return { format: "chaostoolkit", problems: t.problems };
    doc = t.experiment;
  }
  const parsed = experimentSchema.safeParse(doc);
  if (!parsed.success) return { format, problems: describeIssues(experimentSchema, parsed.error.issues) };
  const exp = parsed.data;
  const problems: ErrorDetail[] = [];
  // Checks across fields that the schema cannot express.
  const names = new Set<string>();
  const proxies = new Set(exp.proxies.map((p) => p.name));
  exp.method.forEach((step, i) => {
    if (!("fault" in step)) return;
    const f = step.fault;
    if (names.has(f.name))
      problems.push({ path: `method[${i}].fault.name`, message: `duplicate fault name ${f.name}` });
    names.add(f.name);
    if (f.type === "toxic") {
      if (!f.api && !proxies.has(f.proxy))
        problems.push({
          path: `method[${i}].fault.proxy`,
          message: `no proxy ${f.proxy} under proxies (or set api)`,
        });
      try {
        parseToxic({ ...f.toxic, name: f.toxic.name ?? f.name });
      } catch (e) {
        for (const d of (e as { details?: ErrorDetail[] }).details ?? [])
          problems.push({ path: `method[${i}].fault.toxic.${d.path}`, message: d.message });
      }
    }
  });
  const refs = new Set([...Object.keys(exp.configuration), ...Object.keys(exp.secrets)]);
  for (const m of JSON.stringify(exp).matchAll(/\$\{([^}]+)\}/g))
    if (!refs.has(m[1] as string))
      problems.push({ path: "", message: `\${${m[1]}} is not in configuration or secrets` });
  return { format, experiment: exp, problems };
}

export async function loadExperimentFile(path: string): Promise<LoadedExperiment> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    return {
      format: "novasre",
      problems: [{ path: "", message: `cannot read ${path}: ${(e as Error).message}` }],
    };
  }
  return parseExperiment(text, path);
}

/** Substitutes `${name}` from configuration and secrets everywhere in the experiment. */
export function resolveExperiment(exp: Experiment, env: NodeJS.ProcessEnv): Result<Experiment> {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const [k, v] of Object.entries(exp.configuration)) {
    if (typeof v === "object") {
      const e = env[v.env];
      if (e !== undefined) values[k] = e;
      else if (v.default !== undefined) values[k] = String(v.default);
      else missing.push(`configuration ${k}: environment variable ${v.env} is not set`);
    } else values[k] = String(v);
  }
  for (const [k, v] of Object.entries(exp.secrets)) {
    const e = env[v.env];
    if (e === undefined) missing.push(`secret ${k}: environment variable ${v.env} is not set`);
    else values[k] = e;
  }
  if (missing.length) return fail(missing.join("; "), false);
  const sub = (x: unknown): unknown => {
    if (typeof x === "string") {
      const whole = /^\$\{([^}]+)\}$/.exec(x);
      // A whole-string reference to a numeric configuration value stays a number.
      if (whole && typeof exp.configuration[whole[1] as string] === "number")
        return exp.configuration[whole[1] as string];
      return x.replace(/\$\{([^}]+)\}/g, (m, name: string) => values[name] ?? m);
    }
    if (Array.isArray(x)) return x.map(sub);
    if (x && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, sub(v)]));
    return x;
  };
  return ok(sub(exp) as Experiment);
}
