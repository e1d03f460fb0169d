import { spawn } from "node:child_process";
import { isDeepStrictEqual } from "node:util";
import type { ActionStep, Probe, Tolerance } from "./experiment.js";
import { jsonPath } from "./jsonpath.js";

export interface ProbeOutput {
  status?: number;
  body?: string;
  json?: unknown;
  time_ms: number;
  exit_code?: number | null;
  stdout?: string;
  stderr?: string;
  value?: number;
  error?: string;
}

/** Bytes of a probe's body or output kept (for tolerances and the journal). */
export const PROBE_OUTPUT_LIMIT_BYTES = 64 * 1024;

async function httpCall(h: NonNullable<Probe["http"]>, signal?: AbortSignal): Promise<ProbeOutput> {
  const start = performance.now();
  try {
    const body =
      h.body === undefined ? undefined : typeof h.body === "string" ? h.body : JSON.stringify(h.body);
    const timeout = AbortSignal.timeout(h.timeout);
    const res = await fetch(h.url, {
      method: h.method,
      headers: {
        ...(body !== undefined && typeof h.body !== "string" ? { "content-type": "application/json" } : {}),
        ...h.headers,
      },
      ...(body !== undefined ? { body } : {}),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = (await res.text()).slice(0, PROBE_OUTPUT_LIMIT_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, body: text, json, time_ms: performance.now() - start };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { time_ms: performance.now() - start, error: `${err.name}: ${err.cause?.code ?? err.message}` };
  }
}

function processCall(p: NonNullable<Probe["process"]>): Promise<ProbeOutput> {
  const start = performance.now();
  return new Promise((resolve) => {
    const [cmd, ...args] = p.argv;
    const child = spawn(cmd as string, args, {
      cwd: p.cwd,
      env: { ...process.env, ...p.env },
      timeout: p.timeout,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on(
      "data",
      (d: Buffer) => (stdout = (stdout + d.toString()).slice(0, PROBE_OUTPUT_LIMIT_BYTES)),
    );
    child.stderr.on(
      "data",
      (d: Buffer) => (stderr = (stderr + d.toString()).slice(0, PROBE_OUTPUT_LIMIT_BYTES)),
    );
    child.once("error", (e) => resolve({ time_ms: performance.now() - start, error: e.message }));
    child.once("close", (code, sig) =>
      resolve({
        exit_code: code,
        stdout,
        stderr,
        time_ms: performance.now() - start,
        ...(sig ? { error: `killed by ${sig}` } : {}),
      }),
    );
  });
}

/** Finds one sample in Prometheus text exposition: the metric name with all the given labels. */
export function findSample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const lm of (m[3] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      have[lm[1] as string] = (lm[2] as string).replace(/\\(.)/g, "$1");
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

export async function runProbe(p: Probe | ActionStep, signal?: AbortSignal): Promise<ProbeOutput> {
  if (p.http) return httpCall(p.http, signal);
  if (p.process) return processCall(p.process);
  const m = (p as Probe).metric;
  if (!m) return { time_ms: 0, error: "probe has no provider" };
  const out = await httpCall({ url: m.url, method: "GET", headers: {}, timeout: m.timeout }, signal);
  if (out.error) return out;
  const value = findSample(out.body ?? "", m.name, m.labels);
  return value === undefined
    ? { time_ms: out.time_ms, error: `no sample ${m.name}${JSON.stringify(m.labels)} at ${m.url}` }
    : { time_ms: out.time_ms, value };
}

export function defaultTarget(p: Probe): NonNullable<Tolerance["target"]> {
  return p.http ? "status" : p.process ? "exit_code" : "value";
}

export interface ToleranceResult {
  ok: boolean;
  value: unknown;
  reason?: string;
}

/** Checks a probe's output against its tolerance; every stated condition must hold. */
export function checkTolerance(
  out: ProbeOutput,
  tol: Tolerance | undefined,
  target: NonNullable<Tolerance["target"]>,
  baseline?: number,
): ToleranceResult {
  if (out.error) return { ok: false, value: undefined, reason: out.error };
  const t = tol ?? {};
  let value: unknown = out[t.target ?? (t.jsonpath ? "json" : target)];
  if (t.jsonpath) {
    let doc = value;
    if (typeof doc === "string") {
      try {
        doc = JSON.parse(doc);
      } catch {
        return { ok: false, value: undefined, reason: "body is not JSON" };
      }
    }
    const matches = jsonPath(doc, t.jsonpath);
    if (!matches.length) return { ok: false, value: undefined, reason: `no match for ${t.jsonpath}` };
    value = matches.length === 1 ? matches[0] : matches;
  }
  const fails: string[] = [];
  if (t.equals !== undefined && !isDeepStrictEqual(value, t.equals))
    fails.push(`expected ${JSON.stringify(t.equals)}`);
  if (t.one_of && !t.one_of.some((v) => isDeepStrictEqual(v, value)))
    fails.push(`expected one of ${JSON.stringify(t.one_of)}`);
  if (t.range) {
    const n = Number(value);
    if (!Number.isFinite(n) || n < t.range[0] || n > t.range[1])
      fails.push(`outside [${t.range[0]}, ${t.range[1]}]`);
  }
  if (
    t.regex !== undefined &&
    !new RegExp(t.regex).test(typeof value === "string" ? value : JSON.stringify(value))
  )
    fails.push(`does not match /${t.regex}/`);
  if (t.baseline) {
    const n = Number(value);
    if (baseline === undefined) fails.push("no baseline captured");
    else if (!Number.isFinite(n)) fails.push("not a number");
    else {
      const { max_increase_pct: inc, max_decrease_pct: dec } = t.baseline;
      const span = Math.abs(baseline);
      if (inc !== undefined && n > baseline + (span * inc) / 100)
        fails.push(`more than ${inc}% above baseline ${baseline}`);
      if (dec !== undefined && n < baseline - (span * dec) / 100)
        fails.push(`more than ${dec}% below baseline ${baseline}`);
    }
  }
  // Without any condition, a probe holds when it answered: an HTTP 2xx/3xx, or exit code 0.
  const hasCondition =
    t.equals !== undefined || t.one_of || t.range || t.regex !== undefined || t.baseline || t.jsonpath;
  if (!hasCondition) {
    if (target === "status" && !(Number(out.status) >= 200 && Number(out.status) < 400))
      fails.push("status not 2xx/3xx");
    if (target === "exit_code" && out.exit_code !== 0) fails.push("exit code not 0");
  }
  return fails.length
    ? { ok: false, value, reason: `${JSON.stringify(value)}: ${fails.join("; ")}` }
    : { ok: true, value };
}

/** A probe's numeric value for baselines: the tolerance's target (after JSONPath) as a number. */
export function numericValue(
  out: ProbeOutput,
  tol: Tolerance | undefined,
  target: NonNullable<Tolerance["target"]>,
): number | undefined {
  const r = checkTolerance(
    out,
    {
      ...(tol?.target ? { target: tol.target } : {}),
      ...(tol?.jsonpath ? { jsonpath: tol.jsonpath } : {}),
      equals: undefined,
    },
    target,
  );
  const v = r.value ?? out[tol?.target ?? target];
  const n = Number(v);
  return out.error || !Number.isFinite(n) ? undefined : n;
}
