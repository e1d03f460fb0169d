/**
 * A JSONPath subset (RFC 9535 core): `$`, `.name`, `['name']`, `[n]` (negative from the end), `[*]`, `.*`
 * and `..name` (descendants). Returns every match in document order.
 */
export function jsonPath(doc: unknown, path: string): unknown[] {
  const p = path.trim();
  if (!p.startsWith("$")) throw new Error(`JSONPath must start with $: ${path}`);
  let nodes: unknown[] = [doc];
  let i = 1;
  const children = (n: unknown): unknown[] =>
    Array.isArray(n) ? n : n !== null && typeof n === "object" ? Object.values(n) : [];
  const member = (n: unknown, key: string | number): unknown[] => {
    if (typeof key === "number") {
      if (!Array.isArray(n)) return [];
      const v: unknown = n[key < 0 ? n.length + key : key];
      return v === undefined ? [] : [v];
    }
    if (n !== null && typeof n === "object" && !Array.isArray(n) && Object.hasOwn(n, key))
      return [(n as Record<string, unknown>)[key]];
    return [];
  };
  const descendants = (n: unknown): unknown[] => {
    const out: unknown[] = [n];
    for (const c of children(n)) out.push(...descendants(c));
    return out;
  };
  while (i < p.length) {
    if (p.startsWith("..", i)) {
      i += 2;
      const m = /^(\*|[A-Za-z_$][\w$-]*)/.exec(p.slice(i));
      if (!m) throw new Error(`bad JSONPath at ${i}: ${path}`);
      i += m[0].length;
      const all = nodes.flatMap(descendants);
      nodes = m[0] === "*" ? all.flatMap(children) : all.flatMap((n) => member(n, m[0]));
    } else if (p[i] === ".") {
      i += 1;
      const m = /^(\*|[A-Za-z_$][\w$-]*)/.exec(p.slice(i));
      if (!m) throw new Error(`bad JSONPath at ${i}: ${path}`);
      i += m[0].length;
      nodes = m[0] === "*" ? nodes.flatMap(children) : nodes.flatMap((n) => member(n, m[0]));
    } else if (p[i] === "[") {
      const end = p.indexOf("]", i);
      if (end < 0) throw new Error(`unclosed [ in JSONPath: ${path}`);
      const inner = p.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === "*") nodes = nodes.flatMap(children);
      else if (/^-?\d+$/.test(inner)) nodes = nodes.flatMap((n) => member(n, Number(inner)));
      else if (/^(['"]).*\1$/.test(inner)) nodes = nodes.flatMap((n) => member(n, inner.slice(1, -1)));
      else throw new Error(`unsupported JSONPath selector [${inner}]: ${path}`);
    } else throw new Error(`bad JSONPath at ${i}: ${path}`);
  }
  return nodes;
}
