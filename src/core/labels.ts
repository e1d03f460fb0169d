import { createHash } from "node:crypto";

const SEP_KV = Buffer.from([0xfe]);
const SEP_PAIR = Buffer.from([0xff]);

/** A metric's or alert's labels. Keys are label names, values are strings, as in Prometheus. */
export type Labels = Record<string, string>;

/**
 * A 64-bit fingerprint of the label set (the first 16 hex digits of SHA-256 over the sorted pairs):
 * order-independent, stable across processes and restarts. Separators are bytes that cannot occur in
 * UTF-8 text, so `{a="1b"}` and `{a1="b"}` cannot collide by concatenation.
 */
export function fingerprint(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  const h = createHash("sha256");
  for (const k of keys)
    h.update(k)
      .update(SEP_KV)
      .update(labels[k] as string)
      .update(SEP_PAIR);
  return h.digest("hex").slice(0, 16);
}

/** The subset of `labels` named by `keys`, with missing ones as "". */
export function pick(labels: Labels, keys: readonly string[]): Labels {
  const out: Labels = {};
  for (const k of keys) out[k] = labels[k] ?? "";
  return out;
}

/** Canonical string of a label set: `{a="1", b="2"}` with sorted keys. */
export function labelsToString(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return `{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(", ")}}`;
}
