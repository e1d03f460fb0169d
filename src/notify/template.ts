import { fail, ok, type Result } from "../core/index.js";

/**
 * A logic-light template engine: a Mustache subset. `{{a.b}}` (escaped), `{{{a.b}}}` and `{{& a.b}}`
 * (raw), `{{#x}}...{{/x}}` (list iteration or truthy section), `{{^x}}...{{/x}}` (inverted),
 * `{{! comment}}`, `{{.}}` (current item). No code runs; unknown variables render empty.
 */
type Node =
  | { t: "text"; s: string }
  | { t: "var"; path: string[]; raw: boolean }
  | { t: "section"; path: string[]; inverted: boolean; children: Node[] };

export interface Template {
  readonly source: string;
  readonly nodes: Node[];
}

export type Escaper = (s: string) => string;

/** Templates are config: bound their size so a typo cannot make rendering pathological. */
export const MAX_TEMPLATE_LENGTH_CHARS = 64 * 1024;
const MAX_SECTION_DEPTH = 16;

function splitPath(name: string): string[] {
  return name === "." ? [] : name.split(".");
}

export function parseTemplate(source: string): Result<Template> {
  if (source.length > MAX_TEMPLATE_LENGTH_CHARS)
    return fail(`template longer than ${MAX_TEMPLATE_LENGTH_CHARS} characters`, false);
  const root: Node[] = [];
  const stack: { name: string; children: Node[]; at: number }[] = [];
  let out = root;
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf("{{", pos);
    if (open < 0) {
      out.push({ t: "text", s: source.slice(pos) });
      break;
    }
    if (open > pos) out.push({ t: "text", s: source.slice(pos, open) });
    const triple = source.startsWith("{{{", open);
    const closeTok = triple ? "}}}" : "}}";
    const close = source.indexOf(closeTok, open + (triple ? 3 : 2));
    if (close < 0) return fail(`unclosed tag at offset ${open}`, false);
    const inner = source.slice(open + (triple ? 3 : 2), close).trim();
    pos = close + closeTok.length;
    if (triple) {
      if (!validName(inner))
        return fail(`invalid variable ${JSON.stringify(inner)} at offset ${open}`, false);
      out.push({ t: "var", path: splitPath(inner), raw: true });
      continue;
    }
    const sigil = inner[0];
    const name = inner.slice(1).trim();
    if (sigil === "!") continue;
    if (sigil === "#" || sigil === "^") {
      if (!validName(name))
        return fail(`invalid section name ${JSON.stringify(name)} at offset ${open}`, false);
      if (stack.length >= MAX_SECTION_DEPTH)
        return fail(`sections nested deeper than ${MAX_SECTION_DEPTH}`, false);
      const node: Node = { t: "section", path: splitPath(name), inverted: sigil === "^", children: [] };
      out.push(node);
      stack.push({ name, children: out, at: open });
      out = node.children;
      continue;
    }
    if (sigil === "/") {
      const top = stack.pop();
      if (!top) return fail(`closing tag {{/${name}}} without an open section at offset ${open}`, false);
      if (top.name !== name)
        return fail(`section {{#${top.name}}} closed by {{/${name}}} at offset ${open}`, false);
      out = top.children;
      continue;
    }
    const raw = sigil === "&";
    const varName = raw ? name : inner;
    if (!validName(varName))
      return fail(`invalid variable ${JSON.stringify(varName)} at offset ${open}`, false);
    out.push({ t: "var", path: splitPath(varName), raw });
  }
  const unclosed = stack.pop();
  if (unclosed)
    return fail(`section {{#${unclosed.name}}} opened at offset ${unclosed.at} is never closed`, false);
  return ok({ source, nodes: root });
}

function validName(name: string): boolean {
  return name === "." || /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(name);
}

function lookup(stack: readonly unknown[], path: readonly string[]): unknown {
  if (path.length === 0) return stack[stack.length - 1];
  const [head, ...rest] = path as [string, ...string[]];
  // Like Mustache: the first path segment resolves in the innermost context that has it.
  for (let i = stack.length - 1; i >= 0; i--) {
    const ctx = stack[i];
    if (ctx !== null && typeof ctx === "object" && Object.hasOwn(ctx, head)) {
      let v: unknown = (ctx as Record<string, unknown>)[head];
      for (const seg of rest) {
        if (v === null || typeof v !== "object" || !Object.hasOwn(v, seg)) return undefined;
        v = (v as Record<string, unknown>)[seg];
      }
      return v;
    }
  }
  return undefined;
}

function toText(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return v.map(toText).join(", ");
  return JSON.stringify(v);
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== undefined && v !== null && v !== false && v !== "" && v !== 0;
}

function renderNodes(nodes: readonly Node[], stack: unknown[], esc: Escaper, out: string[]): void {
  for (const n of nodes) {
    if (n.t === "text") out.push(n.s);
    else if (n.t === "var") {
      const s = toText(lookup(stack, n.path));
      out.push(n.raw ? s : esc(s));
    } else {
      const v = lookup(stack, n.path);
      if (n.inverted) {
        if (!truthy(v)) renderNodes(n.children, stack, esc, out);
      } else if (Array.isArray(v)) {
        for (const item of v) {
          stack.push(item);
          renderNodes(n.children, stack, esc, out);
          stack.pop();
        }
      } else if (truthy(v)) {
        stack.push(v);
        renderNodes(n.children, stack, esc, out);
        stack.pop();
      }
    }
  }
}

export function renderTemplate(t: Template, data: unknown, esc: Escaper = noEscape): string {
  const out: string[] = [];
  renderNodes(t.nodes, [data], esc, out);
  return out.join("");
}

export const noEscape: Escaper = (s) => s;

export const htmlEscape: Escaper = (s) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

/** Slack mrkdwn: only &, < and > are control characters (they start links and mentions). */
export const slackEscape: Escaper = (s) =>
  s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c] as string);
