/**
 * A small expression language for `when:`, decisions and templates. It is parsed and interpreted here
 * (never eval'd): literals, dotted paths into the context, comparison, boolean logic, `+`, regex match
 * and a few pure functions. Paths read only own properties of plain data, so nothing reaches prototypes.
 */

/** Longest expression text accepted; keeps parse time bounded. */
export const MAX_EXPRESSION_LENGTH = 2_000;
/** Deepest nesting of parentheses/unary operators. */
export const MAX_EXPRESSION_DEPTH = 32;

export type Value = string | number | boolean | null | Value[] | { [k: string]: Value } | undefined;

export class ExprError extends Error {
  constructor(
    message: string,
    readonly pos = 0,
  ) {
    super(message);
    this.name = "ExprError";
  }
}

/** Thrown while rendering a plan when a value is only known at run time (an earlier step's output). */
export class Unresolved extends Error {
  constructor(readonly path: string) {
    super(`${path} is known only at run time`);
    this.name = "Unresolved";
  }
}

type Tok =
  | { t: "num"; v: number; p: number }
  | { t: "str"; v: string; p: number }
  | { t: "id"; v: string; p: number }
  | { t: "op"; v: string; p: number }
  | { t: "end"; p: number };

const OPS = [
  "==",
  "!=",
  "<=",
  ">=",
  "=~",
  "!~",
  "&&",
  "||",
  "<",
  ">",
  "!",
  "+",
  "-",
  "(",
  ")",
  "[",
  "]",
  ".",
  ",",
];

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ t: "num", v: Number(m[0]), p: i });
      i += m[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = "";
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\" && j + 1 < src.length) {
          const n = src[j + 1] as string;
          s += n === "n" ? "\n" : n === "t" ? "\t" : n;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new ExprError("unterminated string", i);
      out.push({ t: "str", v: s, p: i });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ t: "id", v: m[0], p: i });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExprError(`unexpected character ${JSON.stringify(c)}`, i);
    out.push({ t: "op", v: op, p: i });
    i += op.length;
  }
  out.push({ t: "end", p: src.length });
  return out;
}

export type Node =
  | { k: "lit"; v: Value }
  | { k: "path"; root: string; parts: (string | Node)[] }
  | { k: "un"; op: string; a: Node }
  | { k: "bin"; op: string; a: Node; b: Node }
  | { k: "call"; fn: string; args: Node[] };

const FUNCTIONS: Record<string, (args: Value[]) => Value> = {
  len: ([v]) =>
    typeof v === "string" || Array.isArray(v)
      ? v.length
      : v && typeof v === "object"
        ? Object.keys(v).length
        : 0,
  lower: ([v]) => str(v).toLowerCase(),
  upper: ([v]) => str(v).toUpperCase(),
  trim: ([v]) => str(v).trim(),
  string: ([v]) => str(v),
  number: ([v]) => {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  },
  default: ([v, d]) => (v === undefined || v === null || v === "" ? d : v),
  contains: ([h, n]) => (Array.isArray(h) ? h.some((x) => x === n) : str(h).includes(str(n))),
  startsWith: ([h, n]) => str(h).startsWith(str(n)),
  endsWith: ([h, n]) => str(h).endsWith(str(n)),
};

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: Tok[]) {}
  private peek(): Tok {
    return this.toks[this.i] as Tok;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === "op" && t.v === v;
  }
  private expect(v: string): void {
    if (!this.isOp(v)) throw new ExprError(`expected "${v}"`, this.peek().p);
    this.i++;
  }
  parse(): Node {
    const n = this.or();
    if (this.peek().t !== "end") throw new ExprError("unexpected text after expression", this.peek().p);
    return n;
  }
  private or(): Node {
    let a = this.and();
    while (this.isOp("||")) {
      this.i++;
      a = { k: "bin", op: "||", a, b: this.and() };
    }
    return a;
  }
  private and(): Node {
    let a = this.cmp();
    while (this.isOp("&&")) {
      this.i++;
      a = { k: "bin", op: "&&", a, b: this.cmp() };
    }
    return a;
  }
  private cmp(): Node {
    const a = this.add();
    const t = this.peek();
    if (t.t === "op" && ["==", "!=", "<", "<=", ">", ">=", "=~", "!~"].includes(t.v)) {
      this.i++;
      return { k: "bin", op: t.v, a, b: this.add() };
    }
    if (t.t === "id" && t.v === "in") {
      this.i++;
      return { k: "bin", op: "in", a, b: this.add() };
    }
    return a;
  }
  private add(): Node {
    let a = this.unary();
    while (this.isOp("+") || this.isOp("-")) {
      const op = (this.toks[this.i++] as { v: string }).v;
      a = { k: "bin", op, a, b: this.unary() };
    }
    return a;
  }
  private unary(): Node {
    if (this.isOp("!") || this.isOp("-")) {
      const op = (this.toks[this.i++] as { v: string }).v;
      if (++this.depth > MAX_EXPRESSION_DEPTH)
        throw new ExprError("expression nests too deeply", this.peek().p);
      const a = this.unary();
      this.depth--;
      return { k: "un", op, a };
    }
    return this.primary();
  }
  private primary(): Node {
    const t = this.peek();
    if (t.t === "num" || t.t === "str") {
      this.i++;
      return { k: "lit", v: t.v };
    }
    if (t.t === "op" && t.v === "(") {
      this.i++;
      if (++this.depth > MAX_EXPRESSION_DEPTH) throw new ExprError("expression nests too deeply", t.p);
      const n = this.or();
      this.depth--;
      this.expect(")");
      return n;
    }
    if (t.t === "op" && t.v === "[") {
      this.i++;
      const items: Node[] = [];
      while (!this.isOp("]")) {
        items.push(this.or());
        if (!this.isOp("]")) this.expect(",");
      }
      this.i++;
      return { k: "call", fn: "__list", args: items };
    }
    if (t.t === "id") {
      this.i++;
      if (t.v === "true" || t.v === "false") return { k: "lit", v: t.v === "true" };
      if (t.v === "null") return { k: "lit", v: null };
      if (this.isOp("(")) {
        if (!Object.hasOwn(FUNCTIONS, t.v)) throw new ExprError(`unknown function ${t.v}()`, t.p);
        this.i++;
        const args: Node[] = [];
        while (!this.isOp(")")) {
          args.push(this.or());
          if (!this.isOp(")")) this.expect(",");
        }
        this.i++;
        return { k: "call", fn: t.v, args };
      }
      const parts: (string | Node)[] = [];
      for (;;) {
        if (this.isOp(".")) {
          this.i++;
          const n = this.peek();
          if (n.t !== "id" && n.t !== "num") throw new ExprError("expected a name after '.'", n.p);
          this.i++;
          parts.push(String(n.v));
        } else if (this.isOp("[")) {
          this.i++;
          parts.push(this.or());
          this.expect("]");
        } else break;
      }
      return { k: "path", root: t.v, parts };
    }
    throw new ExprError(t.t === "end" ? "unexpected end of expression" : "unexpected token", t.p);
  }
}

const cache = new Map<string, Node>();
/** Parsed expressions kept, so repeated runs of one runbook do not re-parse. */
export const EXPRESSION_CACHE_SIZE = 5_000;

export function parseExpression(src: string): Node {
  const hit = cache.get(src);
  if (hit) return hit;
  if (src.length > MAX_EXPRESSION_LENGTH)
    throw new ExprError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const n = new Parser(tokenize(src)).parse();
  if (cache.size >= EXPRESSION_CACHE_SIZE) cache.clear();
  cache.set(src, n);
  return n;
}

export function str(v: Value): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function truthy(v: Value): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

/** Roots a path may start with. `steps` is unresolvable while planning (see `Unresolved`). */
export interface Scope {
  [root: string]: Value | (() => Value);
}

function lookup(scope: Scope, root: string, parts: string[]): Value {
  if (!Object.hasOwn(scope, root)) throw new ExprError(`unknown name "${root}"`);
  let v = scope[root];
  if (typeof v === "function") v = v();
  for (const p of parts) {
    if (v === undefined || v === null || typeof v !== "object") return undefined;
    if (Array.isArray(v)) {
      const idx = Number(p);
      v = Number.isInteger(idx) ? v[idx] : p === "length" ? v.length : undefined;
    } else v = Object.hasOwn(v, p) ? v[p] : undefined;
  }
  return v;
}

/** Regexes compiled from expressions, by source. */
const regexCache = new Map<string, RegExp>();
function regex(src: string): RegExp {
  let r = regexCache.get(src);
  if (!r) {
    try {
      r = new RegExp(`^(?:${src})$`, "u");
    } catch {
      throw new ExprError(`invalid regular expression ${JSON.stringify(src)}`);
    }
    if (regexCache.size > EXPRESSION_CACHE_SIZE) regexCache.clear();
    regexCache.set(src, r);
  }
  return r;
}

export function evaluate(node: Node, scope: Scope): Value {
  switch (node.k) {
    case "lit":
      return node.v;
    case "path":
      return lookup(
        scope,
        node.root,
        node.parts.map((p) => (typeof p === "string" ? p : str(evaluate(p, scope)))),
      );
    case "un": {
      const a = evaluate(node.a, scope);
      return node.op === "!" ? !truthy(a) : -Number(a);
    }
    case "call": {
      const args = node.args.map((a) => evaluate(a, scope));
      if (node.fn === "__list") return args;
      return (FUNCTIONS[node.fn] as (a: Value[]) => Value)(args);
    }
    case "bin": {
      if (node.op === "&&") return truthy(evaluate(node.a, scope)) && truthy(evaluate(node.b, scope));
      if (node.op === "||") return truthy(evaluate(node.a, scope)) || truthy(evaluate(node.b, scope));
      const a = evaluate(node.a, scope);
      const b = evaluate(node.b, scope);
      switch (node.op) {
        case "==":
          return looseEq(a, b);
        case "!=":
          return !looseEq(a, b);
        case "<":
          return cmp(a, b) < 0;
        case "<=":
          return cmp(a, b) <= 0;
        case ">":
          return cmp(a, b) > 0;
        case ">=":
          return cmp(a, b) >= 0;
        case "=~":
          return regex(str(b)).test(str(a));
        case "!~":
          return !regex(str(b)).test(str(a));
        case "in":
          return Array.isArray(b) ? b.some((x) => looseEq(x, a)) : str(b).includes(str(a));
        case "+":
          return typeof a === "number" && typeof b === "number" ? a + b : str(a) + str(b);
        case "-":
          return Number(a) - Number(b);
      }
      throw new ExprError(`unknown operator ${node.op}`);
    }
  }
}

function looseEq(a: Value, b: Value): boolean {
  if (typeof a === "number" || typeof b === "number") {
    const x = Number(a);
    const y = Number(b);
    if (Number.isFinite(x) && Number.isFinite(y) && a !== "" && b !== "") return x === y;
  }
  if ((a === undefined || a === null) && (b === undefined || b === null)) return true;
  return str(a) === str(b);
}

function cmp(a: Value, b: Value): number {
  const x = Number(a);
  const y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return str(a) < str(b) ? -1 : str(a) > str(b) ? 1 : 0;
}

export function evalExpression(src: string, scope: Scope): Value {
  return evaluate(parseExpression(src), scope);
}

export function evalCondition(src: string, scope: Scope): boolean {
  return truthy(evalExpression(src, scope));
}

const TEMPLATE = /\{\{(.*?)\}\}/gs;

/** Checks every `{{ }}` in a template parses; returns the first problem. */
export function checkTemplate(text: string): string | undefined {
  for (const m of text.matchAll(TEMPLATE)) {
    try {
      parseExpression((m[1] as string).trim());
    } catch (e) {
      return `in {{${m[1]}}}: ${(e as Error).message}`;
    }
  }
  return undefined;
}

/**
 * Renders `text` with each `{{ expr }}` replaced by `encode(value)`. A text that is exactly one
 * placeholder returns the raw value (so JSON bodies keep numbers and booleans).
 */
export function renderTemplate(
  text: string,
  scope: Scope,
  encode: (v: Value, index: number, offset: number) => string = (v) => str(v),
): Value {
  const whole = /^\{\{(.*?)\}\}$/s.exec(text);
  if (whole && !(whole[1] as string).includes("}}"))
    return evalExpression((whole[1] as string).trim(), scope);
  let i = 0;
  return text.replace(TEMPLATE, (_m, expr: string, offset: number) =>
    encode(evalExpression(expr.trim(), scope), i++, offset),
  );
}

export function renderString(text: string, scope: Scope): string {
  if (!text.includes("{{")) return text;
  return str(renderTemplate(text, scope));
}
