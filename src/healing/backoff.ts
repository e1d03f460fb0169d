import {
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_BACKOFF_RESET_AFTER_MS,
} from "./config.js";

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  resetAfterMs?: number;
}

interface Entry {
  /** Delay imposed after the last attempt (ms); 0 before any attempt. */
  delay: number;
  nextAt: number;
  healthySince: number | undefined;
}

/**
 * CrashLoopBackOff per key: the first attempt is free, then 10 s, doubling, capped at 5 min; a key that
 * stays healthy for 10 min starts over.
 */
export class Backoff {
  private readonly entries = new Map<string, Entry>();
  private readonly initial: number;
  private readonly max: number;
  private readonly resetAfter: number;

  constructor(opts: BackoffOptions = {}) {
    this.initial = opts.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
    this.max = opts.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
    this.resetAfter = opts.resetAfterMs ?? DEFAULT_BACKOFF_RESET_AFTER_MS;
  }

  /** When the key may be attempted again; undefined if it may be now. */
  heldUntil(key: string, now: number): number | undefined {
    const e = this.settle(key, now);
    return e && now < e.nextAt ? e.nextAt : undefined;
  }

  /** An attempt was made now: the next one waits the (doubled) delay. */
  attempted(key: string, now: number): void {
    const e = this.settle(key, now) ?? { delay: 0, nextAt: 0, healthySince: undefined };
    e.delay = e.delay === 0 ? this.initial : Math.min(e.delay * 2, this.max);
    e.nextAt = now + e.delay;
    e.healthySince = undefined;
    this.entries.set(key, e);
  }

  /** The key was observed healthy; the first call of a healthy stretch starts the reset clock. */
  healthy(key: string, now: number): void {
    const e = this.entries.get(key);
    if (e && e.healthySince === undefined) e.healthySince = now;
  }

  /** The key was observed unhealthy: a healthy stretch that lasted long enough resets it, a shorter one is forgotten. */
  unhealthy(key: string, now: number): void {
    const e = this.settle(key, now);
    if (e) e.healthySince = undefined;
  }

  /** Current delay after the last attempt (ms), 0 when reset; for status and tests. */
  delay(key: string, now: number): number {
    return this.settle(key, now)?.delay ?? 0;
  }

  private settle(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.healthySince !== undefined && now - e.healthySince >= this.resetAfter) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
}
