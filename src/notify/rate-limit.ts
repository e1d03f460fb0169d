import type { NotifyConfig, RateLimitConfig } from "./config.js";
import { allRoutes, compileRoutes } from "./routing.js";

/** A token bucket driven by the caller's clock: `rate` tokens per second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
      this.updatedAt = now;
    }
  }

  /** Milliseconds until a token is available (0 = available now). */
  waitMs(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  take(now: number): boolean {
    if (this.waitMs(now) > 0) return false;
    this.tokens -= 1;
    return true;
  }
}

export type Acquire = { ok: true } | { ok: false; retryAt: number; reason: string };

/**
 * Rate limits per channel and per route, plus a per-channel pause set when a vendor answers 429.
 * A send takes one token from its channel's bucket and one from its route's bucket, or neither.
 */
export class RateLimiters {
  private channelBuckets = new Map<string, TokenBucket>();
  private routeBuckets = new Map<string, TokenBucket>();
  private pausedUntil = new Map<string, number>();

  constructor(
    limits: { channels?: Record<string, RateLimitConfig>; routes?: Record<string, RateLimitConfig> },
    now: number,
  ) {
    for (const [k, v] of Object.entries(limits.channels ?? {}))
      this.channelBuckets.set(k, new TokenBucket(v.per_second, v.burst, now));
    for (const [k, v] of Object.entries(limits.routes ?? {}))
      this.routeBuckets.set(k, new TokenBucket(v.per_second, v.burst, now));
  }

  static fromConfig(cfg: NotifyConfig, now: number): RateLimiters {
    const channels: Record<string, RateLimitConfig> = {};
    for (const c of cfg.channels) if (c.rate_limit) channels[c.name] = c.rate_limit;
    const routes: Record<string, RateLimitConfig> = {};
    for (const r of allRoutes(compileRoutes(cfg))) if (r.rateLimit) routes[r.path] = r.rateLimit;
    return new RateLimiters({ channels, routes }, now);
  }

  acquire(channel: string, route: string, now: number): Acquire {
    const paused = this.pausedUntil.get(channel);
    if (paused !== undefined && paused > now)
      return { ok: false, retryAt: paused, reason: `channel ${channel} paused` };
    const cb = this.channelBuckets.get(channel);
    const rb = this.routeBuckets.get(route);
    const cw = cb?.waitMs(now) ?? 0;
    const rw = rb?.waitMs(now) ?? 0;
    if (cw > 0 || rw > 0)
      return {
        ok: false,
        retryAt: now + Math.max(cw, rw),
        reason: cw >= rw ? `channel ${channel} rate limit` : `route ${route} rate limit`,
      };
    cb?.take(now);
    rb?.take(now);
    return { ok: true };
  }

  /** Stop sending to a channel until `until` (a vendor's Retry-After, or a backoff after an outage). */
  pause(channel: string, until: number): void {
    const cur = this.pausedUntil.get(channel) ?? 0;
    if (until > cur) this.pausedUntil.set(channel, until);
  }

  pausedUntilOf(channel: string): number | undefined {
    return this.pausedUntil.get(channel);
  }
}
