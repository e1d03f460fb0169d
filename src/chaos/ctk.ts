import type { ErrorDetail } from "../core/index.js";

/**
 * Chaos Toolkit experiment files (https://chaostoolkit.org/reference/api/experiment/), translated into our
 * experiment model. We run the `http` and `process` providers and CTK's tolerances; anything else
 * (python providers, controls, background activities, probe tolerances) is refused by name before the run.
 */
export function isChaosToolkit(doc: unknown): doc is Record<string, unknown> {
  return (
    !!doc &&
    typeof doc === "object" &&
    ("steady-state-hypothesis" in doc ||
      (Array.isArray((doc as { method?: unknown }).method) &&
        ((doc as { method: unknown[] }).method[0] as { type?: unknown } | undefined)?.type !== undefined))
  );
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => !!x && typeof x === "object" && !Array.isArray(x);
/** A scalar as text; objects as JSON (never "[object Object]"). */
const text = (x: unknown, fallback: string): string =>
  x === undefined || x === null ? fallback : typeof x === "string" ? x : JSON.stringify(x);

/** Splits a command line like POSIX shell words (quotes and backslashes), without running a shell. */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = "";
      has = false;
    } else cur += c;
  }
  if (has || cur) out.push(cur);
  return out;
}

export function fromChaosToolkit(doc: Obj): { experiment?: Obj; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const refuse = (path: string, message: string) => problems.push({ path, message });
  for (const key of ["controls", "extensions"])
    if (key in doc && key === "controls") refuse(key, "Chaos Toolkit controls are not supported");
  const named = new Map<string, Obj>();

  const configuration: Obj = {};
  for (const [k, v] of Object.entries(isObj(doc["configuration"]) ? doc["configuration"] : {})) {
    if (isObj(v)) {
      if (v["type"] === "env")
        configuration[k] = {
          env: String(v["key"]),
          ...(v["default"] !== undefined ? { default: v["default"] } : {}),
        };
      else
        refuse(
          `configuration.${k}`,
          `configuration type ${JSON.stringify(v["type"])} is not supported (only env)`,
        );
    } else configuration[k] = v;
  }
  const secrets: Obj = {};
  for (const [scope, entries] of Object.entries(isObj(doc["secrets"]) ? doc["secrets"] : {})) {
    for (const [k, v] of Object.entries(isObj(entries) ? entries : {})) {
      if (isObj(v) && v["type"] === "env") secrets[k] = { env: String(v["key"]) };
      else if (typeof v === "string") configuration[k] = v;
      else refuse(`secrets.${scope}.${k}`, "only env secrets and literal values are supported");
    }
  }

  const provider = (a: Obj, path: string): Obj | undefined => {
    const p = a["provider"];
    if (!isObj(p)) return (refuse(`${path}.provider`, "missing provider"), undefined);
    if (p["type"] === "http") {
      const t = p["timeout"];
      const timeoutS = Array.isArray(t)
        ? Number(t[0]) + Number(t[1])
        : t === undefined
          ? undefined
          : Number(t);
      const args = p["arguments"];
      return {
        http: {
          url: String(p["url"]),
          method: text(p["method"], "GET").toUpperCase(),
          headers: isObj(p["headers"]) ? p["headers"] : {},
          ...(args !== undefined ? { body: args } : {}),
          ...(timeoutS !== undefined ? { timeout: Math.round(timeoutS * 1000) } : {}),
        },
      };
    }
    if (p["type"] === "process") {
      const args = p["arguments"];
      const list = Array.isArray(args) ? args.map(String) : typeof args === "string" ? shellWords(args) : [];
      return {
        process: {
          argv: [String(p["path"]), ...list],
          ...(p["timeout"] !== undefined ? { timeout: Math.round(Number(p["timeout"]) * 1000) } : {}),
        },
      };
    }
    const what =
      p["type"] === "python"
        ? `python provider ${String(p["module"])}.${String(p["func"])}`
        : `provider type ${JSON.stringify(p["type"])}`;
    refuse(`${path}.provider`, `${what} cannot run here (supported: http, process)`);
    return undefined;
  };

  const tolerance = (t: unknown, kind: "http" | "process", path: string): Obj | undefined => {
    const main = kind === "http" ? "status" : "exit_code";
    const textTarget = kind === "http" ? "body" : "stdout";
    const target = (x: unknown) =>
      x === "status" ? main : x === "body" || x === undefined ? textTarget : text(x, "");
    if (typeof t === "number") return { target: main, equals: t };
    if (typeof t === "boolean") return t ? {} : { target: main, range: [400, 599] };
    if (typeof t === "string") return { target: textTarget, equals: t };
    if (Array.isArray(t)) return { target: main, one_of: t };
    if (isObj(t)) {
      switch (t["type"]) {
        case "regex":
          return { target: target(t["target"]), regex: String(t["pattern"]) };
        case "jsonpath":
          return {
            target: t["target"] === "status" ? main : kind === "http" ? "json" : "stdout",
            jsonpath: String(t["path"]),
            ...(t["expect"] !== undefined ? { equals: t["expect"] } : {}),
          };
        case "range":
          return { target: t["target"] === undefined ? main : target(t["target"]), range: t["range"] };
        default:
          refuse(
            path,
            `tolerance type ${JSON.stringify(t["type"])} is not supported (supported: value, list, regex, jsonpath, range)`,
          );
          return undefined;
      }
    }
    refuse(path, "unsupported tolerance");
    return undefined;
  };

  const activity = (a0: unknown, path: string, needTolerance: boolean): Obj[] => {
    let a = a0;
    if (isObj(a) && typeof a["ref"] === "string") {
      const r = named.get(a["ref"]);
      if (!r) return (refuse(path, `ref ${a["ref"]} names no earlier activity`), []);
      a = r;
    }
    if (!isObj(a)) return (refuse(path, "not an activity"), []);
    if (typeof a["name"] === "string") named.set(a["name"], a);
    if (a["background"] === true) refuse(`${path}.background`, "background activities are not supported");
    const prov = provider(a, path);
    if (!prov) return [];
    const kind = prov["http"] ? "http" : "process";
    const steps: Obj[] = [];
    const pauses = isObj(a["pauses"]) ? a["pauses"] : {};
    if (pauses["before"] !== undefined) steps.push({ wait: Math.round(Number(pauses["before"]) * 1000) });
    const name = text(a["name"], "activity");
    if (a["type"] === "probe") {
      const tol =
        a["tolerance"] !== undefined ? tolerance(a["tolerance"], kind, `${path}.tolerance`) : undefined;
      if (needTolerance && a["tolerance"] === undefined)
        refuse(`${path}.tolerance`, "a steady-state probe needs a tolerance");
      steps.push({ probe: { name, ...prov, ...(tol ? { tolerance: tol } : {}) } });
    } else steps.push({ action: { name, ...prov } });
    if (pauses["after"] !== undefined) steps.push({ wait: Math.round(Number(pauses["after"]) * 1000) });
    return steps;
  };

  const ssh = isObj(doc["steady-state-hypothesis"]) ? doc["steady-state-hypothesis"] : undefined;
  const ssProbes = (Array.isArray(ssh?.["probes"]) ? (ssh["probes"] as unknown[]) : []).flatMap((p, i) =>
    activity(p, `steady-state-hypothesis.probes[${i}]`, true).flatMap((s) =>
      s["probe"] ? [s["probe"]] : [],
    ),
  );
  const method = (Array.isArray(doc["method"]) ? doc["method"] : []).flatMap((a, i) =>
    activity(a, `method[${i}]`, false),
  );
  const rollbacks = (Array.isArray(doc["rollbacks"]) ? doc["rollbacks"] : []).flatMap((a, i) =>
    activity(a, `rollbacks[${i}]`, false).flatMap((s) =>
      s["action"]
        ? [s["action"]]
        : s["probe"]
          ? [
              {
                name: (s["probe"] as Obj)["name"],
                ...((s["probe"] as Obj)["http"]
                  ? { http: (s["probe"] as Obj)["http"] }
                  : { process: (s["probe"] as Obj)["process"] }),
              },
            ]
          : [],
    ),
  );
  if (!method.length) refuse("method", "the method has no activity we can run");
  if (problems.length) return { problems };
  return {
    problems,
    experiment: {
      version: 1,
      title: text(doc["title"], "untitled"),
      description: text(doc["description"], ""),
      tags: Array.isArray(doc["tags"]) ? doc["tags"].map(String) : [],
      configuration,
      secrets,
      steady_state: { title: text(ssh?.["title"], "steady state"), probes: ssProbes },
      method,
      rollbacks,
      // Chaos Toolkit checks the hypothesis once after the method.
      recovery_timeout: 0,
    },
  };
}
