import { readFile, readdir } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";
import { ErrorCode, NovaError, describeIssues, editDistance, formatPath } from "../core/index.js";
import { checkTemplate } from "./expr.js";
import { runbookSchema, stepSchema, type Runbook } from "./schema.js";

export interface Problem {
  path: string;
  line: number;
  column: number;
  message: string;
}

export class RunbookError extends NovaError {
  constructor(
    readonly source: string,
    readonly problems: Problem[],
  ) {
    super(
      ErrorCode.ValidationFailed,
      `${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
      {
        details: problems.map((p) => ({
          path: `${p.line}:${p.column}${p.path ? ` ${p.path}` : ""}`,
          message: p.message,
        })),
      },
    );
    this.name = "RunbookError";
  }
  override format(): string {
    return this.problems
      .map((p) => `${this.source}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ""}${p.message}`)
      .join("\n");
  }
}

/** Walks the YAML node tree along a zod issue path; returns the deepest node found and whether it is exact. */
function nodeAt(
  root: YamlNode | null,
  path: readonly PropertyKey[],
): { node: YamlNode | null; keyNode: YamlNode | null } {
  let node: YamlNode | null = root;
  let keyNode: YamlNode | null = null;
  for (const p of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(p));
      if (!pair) break;
      keyNode = pair.key as YamlNode;
      node = (pair.value as YamlNode | null) ?? keyNode;
    } else if (isSeq(node) && typeof p === "number") {
      const item = node.items[p] as YamlNode | undefined;
      if (!item) break;
      node = item;
      keyNode = null;
    } else break;
  }
  return { node, keyNode };
}

function templateProblems(
  v: unknown,
  path: (string | number)[],
  out: { path: (string | number)[]; message: string }[],
): void {
  if (typeof v === "string") {
    const p = checkTemplate(v);
    if (p) out.push({ path, message: p });
  } else if (Array.isArray(v)) v.forEach((x, i) => templateProblems(x, [...path, i], out));
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) templateProblems(x, [...path, k], out);
}

/** Keys a step of this kind accepts (core's hints cannot see through the discriminated union). */
function stepKeys(kind: unknown): string[] {
  for (const o of stepSchema.options) {
    const shape = o.shape as Record<string, { def?: { values?: unknown[] } }>;
    if (shape["kind"]?.def?.values?.[0] === kind) return Object.keys(shape);
  }
  return [];
}

function unknownStepKey(raw: unknown, path: readonly PropertyKey[], key: string): string | undefined {
  if (path.length !== 2 || path[0] !== "steps" || typeof path[1] !== "number") return undefined;
  const step = (raw as { steps?: Record<string, unknown>[] }).steps?.[path[1]];
  const known = stepKeys(step?.["kind"]);
  if (!known.length) return undefined;
  const near = known.map((k) => [k, editDistance(k, key)] as const).sort((a, b) => a[1] - b[1])[0];
  return near && near[1] <= Math.max(2, Math.floor(key.length / 3))
    ? `unknown key "${key}" (did you mean "${near[0]}"?)`
    : `unknown key "${key}" (known keys: ${known.join(", ")})`;
}

/** Parses and validates runbook YAML; every problem comes back with its line and column. */
export function parseRunbook(text: string, source = "runbook"): Runbook {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = [];
  for (const e of doc.errors) {
    const pos = lc.linePos(e.pos[0]);
    problems.push({
      path: "",
      line: pos.line,
      column: pos.col,
      message: e.message.split("\n")[0] ?? e.message,
    });
  }
  if (problems.length) throw new RunbookError(source, problems);
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const locate = (path: readonly PropertyKey[], unknownKey?: string) => {
    const { node, keyNode } = nodeAt(doc.contents, unknownKey === undefined ? path : [...path, unknownKey]);
    const n = unknownKey !== undefined ? (keyNode ?? node) : node;
    const offset = n?.range?.[0] ?? 0;
    return lc.linePos(offset);
  };
  const r = runbookSchema.safeParse(raw);
  if (!r.success) {
    for (const issue of r.error.issues) {
      const details = describeIssues(runbookSchema, [issue]);
      if (issue.code === "unrecognized_keys") {
        issue.keys.forEach((k, i) => {
          const pos = locate(issue.path, k);
          const d = details[i] ?? { path: formatPath([...issue.path, k]), message: `unknown key "${k}"` };
          const message = unknownStepKey(raw, issue.path, k) ?? d.message;
          problems.push({ path: d.path, line: pos.line, column: pos.col, message });
        });
      } else {
        const pos = locate(issue.path);
        const d = details[0] ?? { path: formatPath(issue.path), message: issue.message };
        problems.push({ path: d.path, line: pos.line, column: pos.col, message: d.message });
      }
    }
    throw new RunbookError(source, problems);
  }
  const tp: { path: (string | number)[]; message: string }[] = [];
  templateProblems(raw, [], tp);
  const exprFields = ["when", "if", "expect"];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v)) {
        if (exprFields.includes(k) && typeof x === "string") {
          const p = checkTemplate(`{{${x}}}`);
          if (p) tp.push({ path: [...path, k], message: p.replace(/^in \{\{.*?\}\}: /s, "expression: ") });
        } else walk(x, [...path, k]);
      }
  };
  walk(raw, []);
  if (tp.length) {
    throw new RunbookError(
      source,
      tp.map((t) => {
        const pos = locate(t.path);
        return { path: formatPath(t.path), line: pos.line, column: pos.col, message: t.message };
      }),
    );
  }
  return r.data;
}

export interface LoadedRunbook {
  runbook: Runbook;
  file: string;
  baseDir: string;
}

export async function loadRunbookFile(file: string): Promise<LoadedRunbook> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new RunbookError(file, [
      {
        path: "",
        line: 0,
        column: 0,
        message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      },
    ]);
  }
  return { runbook: parseRunbook(text, file), file, baseDir: dirname(resolve(file)) };
}

/** Directory of the runbooks shipped with the package: runbooks/builtin at the package root (from src/ or dist/). */
export function builtinRunbookDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "runbooks", "builtin");
}

/** Loads every *.yaml/*.yml in the directories (missing directories are skipped); later names win. */
export async function loadLibrary(
  dirs: readonly string[],
): Promise<{ runbooks: Map<string, LoadedRunbook>; errors: RunbookError[] }> {
  const runbooks = new Map<string, LoadedRunbook>();
  const errors: RunbookError[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      continue;
    }
    for (const n of names) {
      if (![".yaml", ".yml"].includes(extname(n))) continue;
      try {
        const l = await loadRunbookFile(join(dir, n));
        runbooks.set(l.runbook.name, l);
      } catch (e) {
        if (e instanceof RunbookError) errors.push(e);
        else throw e;
      }
    }
  }
  return { runbooks, errors };
}
