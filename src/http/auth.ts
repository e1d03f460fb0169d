import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Tokens are stored only as hashes; the secret is shown once, at creation. */
export interface TokenStore {
  insert(token: ApiToken, hash: string): Promise<void>;
  findByHash(hash: string): Promise<ApiToken | undefined>;
  list(): Promise<ApiToken[]>;
  revoke(id: string, now: number): Promise<boolean>;
  touch(id: string, now: number): Promise<void>;
}

const TOKEN_PREFIX = "nsre_";

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Tokens carry 256 random bits, so a plain SHA-256 is enough: there is nothing to brute-force. */
export function hashToken(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function generateTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/**
 * HMAC-SHA256 over `${timestamp}.${body}` so a captured request cannot be replayed later with a new
 * timestamp. Header form: `sha256=<hex>`.
 */
export function signBody(secret: string, timestamp: string, body: string | Buffer): string {
  return "sha256=" + createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

export function verifySignature(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  body: string | Buffer,
  nowMs: number,
  maxSkewMs: number,
): boolean {
  if (!timestamp || !signature) return false;
  const ts = Number(timestamp);
  if (!Number.isFinite(ts) || Math.abs(nowMs - ts * 1000) > maxSkewMs) return false;
  const expected = Buffer.from(signBody(secret, timestamp, body));
  const got = Buffer.from(signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
