import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * Time-ordered ids (`inc_01jd...`): sortable by creation, unique without coordination, readable in
 * a CLI. 48 bits of milliseconds then 80 random bits, Crockford base32, lowercase.
 */
export function newId(prefix: string, nowMs: number = Date.now()): string {
  let t = nowMs;
  let time = "";
  for (let i = 0; i < 10; i++) {
    time = (ALPHABET[t % 32] as string) + time;
    t = Math.floor(t / 32);
  }
  const rnd = randomBytes(16);
  let r = "";
  for (let i = 0; i < 16; i++) r += ALPHABET[(rnd[i] as number) % 32];
  return `${prefix}_${time}${r}`;
}
