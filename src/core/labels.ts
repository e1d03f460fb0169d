/** A metric's or alert's labels. Keys are label names, values are strings, as in Prometheus. */
export type Labels = Record<string, string>;

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;
const SEP = 0xff;

/**
 * A 64-bit FNV-1a fingerprint over the sorted label set, hex encoded. Same idea as Prometheus'
 * label fingerprint: order-independent, stable across processes and restarts.
 */
export function fingerprint(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let h = FNV_OFFSET;
  const enc = new TextEncoder();
  for (const k of keys) {
    for (const part of [k, labels[k] as string]) {
      for (const b of enc.encode(part)) {
        h ^= BigInt(b);
        h = (h * FNV_PRIME) & MASK64;
      }
      h ^= BigInt(SEP);
      h = (h * FNV_PRIME) & MASK64;
    }
  }
  return h.toString(16).padStart(16, "0");
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
