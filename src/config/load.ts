import { readFile } from "node:fs/promises";
import { parseDocument, parse as parseYamlScalar } from "yaml";
import { ErrorCode, NovaError, describeIssues, type ErrorDetail } from "../core/index.js";
import { configSchema, type Config } from "./schema.js";

export const ENV_PREFIX = "NOVASRE_";

/**
 * Environment overrides: NOVASRE_SERVER__PORT=9000 sets server.port. Double underscores separate levels
 * so single ones can stay inside key names (NOVASRE_SERVER__BODY_LIMIT_BYTES). Values are read as YAML
 * scalars, so numbers and booleans keep their types.
 */
export function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const [name, value] of Object.entries(env)) {
    // Only names with a level separator are overrides (every top-level key is a section), so other
    // NOVASRE_ variables such as NOVASRE_URL or NOVASRE_TOKEN for the CLI are left alone.
    if (!name.startsWith(ENV_PREFIX) || !name.includes("__") || value === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split("__");
    if (path.some((p) => p === "")) continue;
    let node: Record<string, unknown> = out;
    for (const p of path.slice(0, -1)) {
      const next = node[p];
      if (typeof next !== "object" || next === null || Array.isArray(next)) node[p] = {};
      node = node[p] as Record<string, unknown>;
    }
    let parsed: unknown = value;
    try {
      parsed = parseYamlScalar(value);
    } catch {
      parsed = value;
    }
    node[path[path.length - 1] as string] = parsed;
  }
  return out;
}

export class ConfigError extends NovaError {
  constructor(source: string, details: ErrorDetail[]) {
    super(ErrorCode.ConfigInvalid, `${source}: ${details.length} problem${details.length === 1 ? "" : "s"}`, {
      details,
    });
    this.name = "ConfigError";
  }
  /** One problem per line, as a person reads them. */
  override format(): string {
    return [this.message, ...this.details.map((d) => `  ${d.path || "(root)"}: ${d.message}`)].join("\n");
  }
}

/** Parses YAML text into a raw object, reporting syntax errors with line and column. */
export function parseYaml(text: string, source: string): Record<string, unknown> {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "",
        message: e.message.split("\n")[0] ?? e.message,
      })),
    );
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new ConfigError(source, [{ path: "", message: "the file must be a YAML mapping" }]);
  return value as Record<string, unknown>;
}

export function validateConfig(raw: unknown, source = "config"): Config {
  const r = configSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(source, describeIssues(configSchema, r.error.issues));
  return r.data;
}

/** Reads FILE (or nothing), applies the environment, and validates. Throws ConfigError listing every problem. */
export async function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Config> {
  let raw: Record<string, unknown> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      throw new ConfigError(file, [
        { path: "", message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` },
      ]);
    }
    raw = parseYaml(text, file);
  }
  return validateConfig(applyEnv(raw, env), file ?? "config");
}
