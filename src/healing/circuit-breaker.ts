import {
  DEFAULT_BREAKER_COOLDOWN_MS,
  DEFAULT_BREAKER_FAILURES,
  DEFAULT_BREAKER_WINDOW_MS,
} from "./config.js";

export type BreakerState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Failures within the window that open the breaker. */
  failures?: number;
  windowMs?: number;
  cooldownMs?: number;
}

interface Entry {
  failures: number[];
  openedAt: number | undefined;
  /** When the half-open trial was let through; undefined while none is out. */
  trialAt: number | undefined;
}

/**
 * Per dependency: closed until `failures` failures within `window`, then open for `cooldown`, then
 * half-open with exactly one trial whose result closes or re-opens it.
 */
export class CircuitBreaker {
  private readonly entries = new Map<string, Entry>();
  private readonly failures: number;
  private readonly window: number;
  private readonly cooldown: number;

  constructor(opts: CircuitBreakerOptions = {}) {
    this.failures = opts.failures ?? DEFAULT_BREAKER_FAILURES;
    this.window = opts.windowMs ?? DEFAULT_BREAKER_WINDOW_MS;
    this.cooldown = opts.cooldownMs ?? DEFAULT_BREAKER_COOLDOWN_MS;
  }

  state(key: string, now: number): BreakerState {
    const e = this.entries.get(key);
    if (!e || e.openedAt === undefined) return "closed";
    return now - e.openedAt >= this.cooldown ? "half-open" : "open";
  }

  /**
   * Whether a call may go through now. In half-open this takes the one trial; a trial whose result never
   * comes back is given up after another cooldown, so the breaker cannot stick.
   */
  acquire(key: string, now: number): { ok: true } | { ok: false; retryAt: number } {
    const e = this.entries.get(key);
    const s = this.state(key, now);
    if (!e || s === "closed") return { ok: true };
    const openedAt = e.openedAt as number;
    if (s === "open") return { ok: false, retryAt: openedAt + this.cooldown };
    if (e.trialAt !== undefined && now - e.trialAt < this.cooldown)
      return { ok: false, retryAt: e.trialAt + this.cooldown };
    e.trialAt = now;
    return { ok: true };
  }

  /** A call acquired but never made (refused elsewhere): frees the half-open trial. */
  release(key: string): void {
    const e = this.entries.get(key);
    if (e) e.trialAt = undefined;
  }

  success(key: string, now: number): void {
    if (this.state(key, now) !== "closed") this.entries.delete(key);
  }

  failure(key: string, now: number): void {
    const e = this.entries.get(key) ?? { failures: [], openedAt: undefined, trialAt: undefined };
    this.entries.set(key, e);
    if (e.openedAt !== undefined) {
      // A failed trial (or a late failure while open) starts the cooldown over.
      e.openedAt = now;
      e.trialAt = undefined;
      return;
    }
    e.failures = e.failures.filter((t) => now - t < this.window);
    e.failures.push(now);
    if (e.failures.length >= this.failures) {
      e.openedAt = now;
      e.failures = [];
    }
  }
}
