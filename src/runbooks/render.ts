import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { Execution, StepResult } from "./model.js";
import { Unresolved, evalCondition, renderTemplate, str, type Scope, type Value } from "./expr.js";
import type { ParamSpec, Probe, RollbackSpec, Runbook, Step } from "./schema.js";
import { DEFAULT_STEP_TIMEOUT_MS } from "./schema.js";

/** What a secret looks like in plans, audit and outputs. */
export const SECRET_MASK = "***";

export type ParamValue = string | number | boolean;
export type Params = Record<string, ParamValue>;

/** Characters never accepted in a string parameter: control characters (newlines, NUL, escapes). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/**
 * Checks supplied parameters against the runbook's declarations. Unknown names are refused (nothing
 * undeclared reaches a step); strings may not hold control characters, and may not start with "-" (so
 * a value cannot become an option of the program it is passed to) unless the param's pattern allows it.
 */
export function resolveParams(
  runbook: Runbook,
  given: Record<string, unknown>,
): { params: Params; problems: string[] } {
  const params: Params = {};
  const problems: string[] = [];
  for (const name of Object.keys(given))
    if (!Object.hasOwn(runbook.params, name)) problems.push(`unknown parameter "${name}"`);
  for (const [name, spec] of Object.entries(runbook.params)) {
    const raw = Object.hasOwn(given, name) ? given[name] : undefined;
    if (raw === undefined || raw === "") {
      if (spec.default !== undefined) params[name] = spec.default;
      else if (spec.required) problems.push(`parameter "${name}" is required`);
      continue;
    }
    const v = coerce(name, spec, raw, problems);
    if (v !== undefined) params[name] = v;
  }
  return { params, problems };
}

function coerce(name: string, spec: ParamSpec, raw: unknown, problems: string[]): ParamValue | undefined {
  if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
    problems.push(`parameter "${name}" must be a ${spec.type}`);
    return undefined;
  }
  if (spec.type === "number") {
    const n = typeof raw === "number" ? raw : Number(raw);
    if (!Number.isFinite(n) || (typeof raw === "string" && !/^-?[0-9]+(\.[0-9]+)?$/.test(raw))) {
      problems.push(`parameter "${name}" must be a number`);
      return undefined;
    }
    return n;
  }
  if (spec.type === "boolean") {
    if (raw === true || raw === "true") return true;
    if (raw === false || raw === "false") return false;
    problems.push(`parameter "${name}" must be true or false`);
    return undefined;
  }
  const s = String(raw);
  const shown = s.length > 40 ? `${JSON.stringify(s.slice(0, 40))}...` : JSON.stringify(s);
  if (s.length > spec.max_length) {
    problems.push(`parameter "${name}" is longer than ${spec.max_length} characters`);
    return undefined;
  }
  if (CONTROL.test(s)) {
    problems.push(`parameter "${name}" contains control characters`);
    return undefined;
  }
  if (spec.enum && !spec.enum.includes(s)) {
    problems.push(`parameter "${name}" must be one of ${spec.enum.join(", ")}; got ${shown}`);
    return undefined;
  }
  if (spec.pattern !== undefined) {
    if (!new RegExp(`^(?:${spec.pattern})$`, "u").test(s)) {
      problems.push(`parameter "${name}" does not match ${spec.pattern}; got ${shown}`);
      return undefined;
    }
  } else if (s.startsWith("-")) {
    problems.push(`parameter "${name}" may not start with "-" (declare a pattern to allow it)`);
    return undefined;
  }
  if (spec.type === "url") {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      problems.push(`parameter "${name}" must be an absolute URL`);
      return undefined;
    }
    if ((u.protocol !== "http:" && u.protocol !== "https:") || u.username || u.password) {
      problems.push(`parameter "${name}" must be an http(s) URL without credentials`);
      return undefined;
    }
  }
  return s;
}

/** Finds secret values by reference. The env map is injected so tests and the server agree on it. */
export interface SecretSource {
  resolve(ref: { env: string } | { file: string }): string | undefined;
}

export function createSecretSource(env: NodeJS.ProcessEnv): SecretSource {
  return {
    resolve(ref) {
      if ("env" in ref) return env[ref.env];
      try {
        return readFileSync(ref.file, "utf8").replace(/\r?\n$/, "");
      } catch {
        return undefined;
      }
    },
  };
}

/** Replaces every occurrence of a secret value in text with the mask. */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0 && out.includes(s)) out = out.split(s).join(SECRET_MASK);
  return out;
}

/** Masks secrets in every string of a JSON-like value. */
export function maskDeep<T>(v: T, secrets: readonly string[]): T {
  if (!secrets.length) return v;
  if (typeof v === "string") return maskText(v, secrets) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => maskDeep(x, secrets)) as T;
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = maskDeep(x, secrets);
    return o as T;
  }
  return v;
}

export interface RenderContext {
  params: Params;
  incident: { id: string | null; labels: Record<string, string> };
  target: string | null;
  /** Outputs of earlier steps; undefined while planning (then `steps.*` stays as template text). */
  results: Record<string, StepResult> | undefined;
  /** Secret values by name; undefined while planning (then secrets render as `${secret:NAME}`). */
  secrets: Record<string, string> | undefined;
}

export function scopeOf(ctx: RenderContext): Scope {
  const secretNames = ctx.secrets;
  return {
    params: ctx.params,
    incident: { id: ctx.incident.id, labels: ctx.incident.labels },
    target: ctx.target,
    steps: () => {
      if (!ctx.results) throw new Unresolved("steps");
      return ctx.results as unknown as Value;
    },
    secrets: () => {
      if (secretNames) return secretNames;
      throw new Unresolved("secrets");
    },
  };
}

/**
 * Renders one template string. While planning, a placeholder that needs run-time data is kept as
 * written, and a secret shows as `${secret:NAME}`, so the plan (and its hash) never holds a secret.
 */
function renderText(
  text: string,
  scope: Scope,
  encode?: (v: Value, i: number, off: number) => string,
): Value {
  if (!text.includes("{{")) return text;
  try {
    return renderTemplate(text, scope, encode);
  } catch (e) {
    if (!(e instanceof Unresolved)) throw e;
  }
  // Planning with unknowns: render placeholder by placeholder, keeping the ones that cannot be known.
  let i = 0;
  return text.replace(/\{\{(.*?)\}\}/gs, (m, expr: string, offset: number) => {
    try {
      const v = renderTemplate(`{{${expr}}}`, scope);
      return encode ? encode(v, i++, offset) : str(v);
    } catch (e) {
      if (!(e instanceof Unresolved)) throw e;
      const sm = /^\s*secrets\.([a-z_][a-z0-9_]*)\s*$/.exec(expr);
      return sm ? `\${secret:${sm[1]}}` : m;
    }
  });
}

export function renderStr(text: string, scope: Scope): string {
  return str(renderText(text, scope));
}

/**
 * URL templates: every substituted value is percent-encoded, so a label cannot add a path segment,
 * query parameter or host. The one exception is a placeholder at the very start, which must evaluate
 * to an absolute http(s) URL without credentials (a base URL from a `url` parameter or the config).
 */
export function renderUrl(text: string, scope: Scope): string {
  const out = str(
    renderText(text, scope, (v, _i, offset) => {
      const s = str(v);
      if (offset === 0) {
        let u: URL | undefined;
        try {
          u = new URL(s);
        } catch {
          u = undefined;
        }
        if (!u || (u.protocol !== "http:" && u.protocol !== "https:") || u.username || u.password)
          throw new RenderError(
            `URL must start with an absolute http(s) URL; got ${JSON.stringify(s.slice(0, 80))}`,
          );
        return s.replace(/\/$/, "");
      }
      return encodeURIComponent(s);
    }),
  );
  if (/^\{\{/.test(text) && !/^https?:\/\//.test(out) && !out.startsWith("{{"))
    throw new RenderError(`URL must start with http:// or https://`);
  return out;
}

export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderError";
  }
}

function renderJson(v: unknown, scope: Scope): unknown {
  if (typeof v === "string") return renderText(v, scope);
  if (Array.isArray(v)) return v.map((x) => renderJson(x, scope));
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = renderJson(x, scope);
    return o;
  }
  return v;
}

function renderEnv(env: Record<string, string> | undefined, scope: Scope): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, t] of Object.entries(env ?? {})) {
    const v = renderStr(t, scope);
    if (v.includes("\u0000")) throw new RenderError(`environment variable ${k} would contain NUL`);
    out[k] = v;
  }
  return out;
}

function renderArgv(argv: readonly string[], scope: Scope): string[] {
  return argv.map((a) => {
    const v = renderStr(a, scope);
    if (v.includes("\u0000")) throw new RenderError("argument would contain NUL");
    return v;
  });
}

export type RenderedAction =
  | {
      kind: "command";
      argv: string[];
      env: Record<string, string>;
      cwd: string | null;
      timeoutMs: number;
      expectExit: number[];
      outputLimit: number;
    }
  | {
      kind: "http";
      method: string;
      url: string;
      headers: Record<string, string>;
      body: string | null;
      timeoutMs: number;
      expectStatus: number[] | null;
    }
  | {
      kind: "action";
      provider: string;
      verb: string;
      target: string;
      args: Record<string, string | number | boolean>;
      timeoutMs: number;
    };

export type RenderedProbe =
  | { http: Extract<RenderedAction, { kind: "http" }> }
  | { tcp: { host: string; port: number } }
  | { command: Extract<RenderedAction, { kind: "command" }> }
  | { metric: { query: string; expect: string } };

export type RenderedStep =
  | (RenderedAction & { id: string })
  | { kind: "wait"; id: string; durationMs: number }
  | { kind: "approval"; id: string; message: string; role: string }
  | { kind: "decision"; id: string; branches: { if: string; goto: string }[]; else: string | null }
  | { kind: "validate"; id: string; probe: RenderedProbe; deadlineMs: number; intervalMs: number }
  | { kind: "manual"; id: string; instructions: string };

function renderHttp(
  s: {
    method: string;
    url: string;
    headers?: Record<string, string> | undefined;
    body?: unknown;
    expect_status?: number[] | undefined;
    timeout?: number | undefined;
  },
  scope: Scope,
): Extract<RenderedAction, { kind: "http" }> {
  const headers: Record<string, string> = {};
  for (const [k, t] of Object.entries(s.headers ?? {})) {
    const v = renderStr(t, scope);
    if (/[\r\n\u0000]/.test(v)) throw new RenderError(`header ${k} would contain a line break`);
    headers[k] = v;
  }
  let body: string | null = null;
  if (s.body !== undefined) {
    if (typeof s.body === "string") body = renderStr(s.body, scope);
    else {
      body = JSON.stringify(renderJson(s.body, scope));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
        headers["content-type"] = "application/json";
    }
  }
  return {
    kind: "http",
    method: s.method,
    url: renderUrl(s.url, scope),
    headers,
    body,
    timeoutMs: s.timeout ?? DEFAULT_STEP_TIMEOUT_MS,
    expectStatus: s.expect_status ?? null,
  };
}

function renderCommand(
  s: {
    argv: string[];
    env?: Record<string, string> | undefined;
    cwd?: string | undefined;
    timeout?: number | undefined;
    expect_exit: number[];
    output_limit_bytes: number;
  },
  scope: Scope,
): Extract<RenderedAction, { kind: "command" }> {
  return {
    kind: "command",
    argv: renderArgv(s.argv, scope),
    env: renderEnv(s.env, scope),
    cwd: s.cwd === undefined ? null : renderStr(s.cwd, scope),
    timeoutMs: s.timeout ?? DEFAULT_STEP_TIMEOUT_MS,
    expectExit: s.expect_exit,
    outputLimit: s.output_limit_bytes,
  };
}

export function renderAction(
  s: RollbackSpec | Extract<Step, { kind: "command" | "script" | "http" | "action" }>,
  scope: Scope,
  baseDir: string | null,
): RenderedAction {
  switch (s.kind) {
    case "command":
      return renderCommand(s, scope);
    case "script": {
      if (baseDir === null && !isAbsolute(s.path))
        throw new RenderError("script steps need a runbook file (relative path)");
      const path = isAbsolute(s.path) ? s.path : join(baseDir as string, s.path);
      return renderCommand(
        {
          argv: [path, ...s.args],
          env: s.env,
          timeout: s.timeout,
          expect_exit: "expect_exit" in s ? s.expect_exit : [0],
          output_limit_bytes: "output_limit_bytes" in s ? s.output_limit_bytes : 65536,
        },
        scope,
      );
    }
    case "http":
      return renderHttp(s, scope);
    case "action": {
      const args: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(s.args ?? {}))
        args[k] = typeof v === "string" ? (renderText(v, scope) as string | number | boolean) : v;
      return {
        kind: "action",
        provider: renderStr(s.provider, scope),
        verb: s.verb,
        target: renderStr(s.target, scope),
        args,
        timeoutMs: s.timeout ?? DEFAULT_STEP_TIMEOUT_MS,
      };
    }
  }
}

function renderProbe(p: Probe, scope: Scope): RenderedProbe {
  if ("http" in p) return { http: renderHttp(p.http, scope) };
  if ("tcp" in p) {
    const port = Number(typeof p.tcp.port === "number" ? p.tcp.port : renderStr(p.tcp.port, scope));
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new RenderError(`invalid TCP port ${port}`);
    return { tcp: { host: renderStr(p.tcp.host, scope), port } };
  }
  if ("command" in p) return { command: renderCommand(p.command, scope) };
  return { metric: { query: renderStr(p.metric.query, scope), expect: p.metric.expect } };
}

export function renderStep(step: Step, scope: Scope, baseDir: string | null): RenderedStep {
  switch (step.kind) {
    case "command":
    case "script":
    case "http":
    case "action":
      return { ...renderAction(step, scope, baseDir), id: step.id };
    case "wait":
      return { kind: "wait", id: step.id, durationMs: step.duration };
    case "approval":
      return {
        kind: "approval",
        id: step.id,
        message: renderStr(step.message ?? "", scope),
        role: step.role,
      };
    case "decision":
      return { kind: "decision", id: step.id, branches: step.branches, else: step.else ?? null };
    case "validate":
      return {
        kind: "validate",
        id: step.id,
        probe: renderProbe(step.probe, scope),
        deadlineMs: step.deadline,
        intervalMs: step.interval,
      };
    case "manual":
      return { kind: "manual", id: step.id, instructions: renderStr(step.instructions, scope) };
  }
}

export interface PlanStep {
  step: RenderedStep | { kind: "error"; id: string; error: string };
  when: string | null;
  rollback: RenderedAction | null;
  onFailure: string;
}

export interface Plan {
  runbook: string;
  target: string | null;
  params: Params;
  steps: PlanStep[];
}

/** The exact plan as a person approves it: every step rendered from params, secrets as `${secret:NAME}`. */
export function renderPlan(
  runbook: Runbook,
  ctx: Omit<RenderContext, "results" | "secrets">,
  baseDir: string | null,
): Plan {
  const scope = scopeOf({ ...ctx, results: undefined, secrets: undefined });
  return {
    runbook: runbook.name,
    target: ctx.target,
    params: ctx.params,
    steps: runbook.steps.map((s) => {
      let step: PlanStep["step"];
      let rollback: RenderedAction | null = null;
      try {
        step = renderStep(s, scope, baseDir);
        if ("rollback" in s && s.rollback) rollback = renderAction(s.rollback, scope, baseDir);
      } catch (e) {
        step = { kind: "error", id: s.id, error: (e as Error).message };
      }
      return { step, when: s.when ?? null, rollback, onFailure: s.on_failure };
    }),
  };
}

/** Canonical JSON (sorted keys) so the hash does not depend on property order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function planHash(plan: Plan): string {
  return sha256(canonicalJson(plan));
}

/** The rendered target of a runbook (what guards key on), or null when it names none. */
export function renderTarget(
  runbook: Runbook,
  params: Params,
  labels: Record<string, string>,
): string | null {
  if (!runbook.target) return null;
  return renderStr(
    runbook.target,
    scopeOf({ params, incident: { id: null, labels }, target: null, results: undefined, secrets: undefined }),
  );
}

export function conditionHolds(when: string | undefined, scope: Scope): boolean {
  return when === undefined ? true : evalCondition(when, scope);
}

export function contextOf(e: Execution, secrets: Record<string, string> | undefined): RenderContext {
  return {
    params: e.params,
    incident: { id: e.incidentId, labels: e.incidentLabels },
    target: e.target,
    results: e.results,
    secrets,
  };
}
