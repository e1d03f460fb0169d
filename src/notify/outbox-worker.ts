import type { Clock, Logger } from "../core/index.js";
import type { Channel } from "./channels/channel.js";
import type { OutboxConfig } from "./config.js";
import { noopNotifyMetrics, type NotifyMetrics } from "./metrics.js";
import type { OutboxItem, OutboxStore } from "./outbox.js";
import type { RateLimiters } from "./rate-limit.js";

/** Items claimed per poll: enough to drain a burst quickly, few enough that a lease covers them all. */
export const DEFAULT_OUTBOX_BATCH_SIZE = 50;
/** On stop, in-flight sends get this long to finish before they are aborted (and retried later). */
export const DEFAULT_STOP_GRACE_MS = 15_000;

export interface OutboxWorkerOptions {
  pollIntervalMs: number;
  /** 0 = retry retryable failures forever. */
  maxAttempts: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  leaseMs: number;
  batchSize?: number;
  /** [0,1) source for backoff jitter; injectable for deterministic tests. */
  random?: () => number;
  metrics?: NotifyMetrics;
  /** Told of each final outcome (sent, or dead), e.g. to record it on the incident timeline. */
  onDelivered?: (
    item: OutboxItem,
    outcome: { status: "sent"; ref?: string } | { status: "dead"; error: string },
  ) => Promise<void>;
}

export function outboxWorkerOptions(
  cfg: OutboxConfig,
  extra: Partial<OutboxWorkerOptions> = {},
): OutboxWorkerOptions {
  return {
    pollIntervalMs: cfg.poll_interval,
    maxAttempts: cfg.max_attempts,
    backoffInitialMs: cfg.backoff_initial,
    backoffMaxMs: cfg.backoff_max,
    leaseMs: cfg.lease,
    ...extra,
  };
}

export interface RunResult {
  sent: number;
  retried: number;
  dead: number;
  /** Postponed without an attempt: rate limit, channel paused, or an earlier failure on the channel. */
  deferred: number;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of many
 * items spread out but none comes back immediately.
 */
export function backoffMs(attempts: number, initialMs: number, maxMs: number, random: () => number): number {
  const exp = Math.min(maxMs, initialMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * Delivers outbox items. Per channel, items go out one at a time in createdAt order; channels run in
 * parallel. After a retryable failure the channel is paused until that item's next attempt, so a
 * channel that is down is probed by one item, not hammered by all, and order is kept.
 */
export class OutboxWorker {
  private readonly opts: Required<Omit<OutboxWorkerOptions, "metrics" | "onDelivered">> & {
    metrics: NotifyMetrics;
    onDelivered?: OutboxWorkerOptions["onDelivered"];
  };
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeResolve: (() => void) | undefined;
  private abort = new AbortController();

  constructor(
    private readonly store: OutboxStore,
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly limiters: RateLimiters,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: OutboxWorkerOptions,
  ) {
    this.opts = {
      batchSize: DEFAULT_OUTBOX_BATCH_SIZE,
      random: Math.random,
      ...options,
      metrics: options.metrics ?? noopNotifyMetrics,
    };
  }

  async runOnce(now: number = this.clock.now()): Promise<RunResult> {
    const items = await this.store.claimDue(now, this.opts.batchSize, this.opts.leaseMs);
    const result: RunResult = { sent: 0, retried: 0, dead: 0, deferred: 0 };
    const byChannel = new Map<string, OutboxItem[]>();
    for (const it of items) {
      const list = byChannel.get(it.channel) ?? [];
      list.push(it);
      byChannel.set(it.channel, list);
    }
    await Promise.all([...byChannel.entries()].map(([name, list]) => this.runChannel(name, list, result)));
    return result;
  }

  private async runChannel(name: string, items: OutboxItem[], result: RunResult): Promise<void> {
    const channel = this.channels.get(name);
    let blockedUntil: number | undefined;
    let blockedWhy = "";
    for (const item of items) {
      const now = this.clock.now();
      if (!channel) {
        await this.dead(item, now, `no channel named ${JSON.stringify(name)} is configured`, result);
        continue;
      }
      if (blockedUntil === undefined) {
        const gate = this.limiters.acquire(name, item.payload.route, now);
        if (!gate.ok) {
          blockedUntil = gate.retryAt;
          blockedWhy = gate.reason;
        }
      }
      if (blockedUntil !== undefined) {
        // Not an attempt: the attempt counter is unchanged.
        await this.store.markRetry(
          item.id,
          item.attempts,
          Math.max(blockedUntil, now),
          `deferred: ${blockedWhy}`,
        );
        result.deferred += 1;
        continue;
      }
      let r: Awaited<ReturnType<Channel["send"]>>;
      try {
        r = await channel.send(item.payload, this.abort.signal);
      } catch (e) {
        // A channel that throws has a bug; treat it as retryable so the notification is not lost.
        r = { status: "error", error: `channel threw: ${(e as Error).message}`, retryable: true };
      }
      const done = this.clock.now();
      if (r.status === "ok") {
        await this.store.markSent(item.id, done, r.value.ref);
        await this.report(
          item,
          r.value.ref === undefined ? { status: "sent" } : { status: "sent", ref: r.value.ref },
        );
        this.opts.metrics.sent(name);
        result.sent += 1;
        continue;
      }
      this.opts.metrics.failed(name, r.retryable);
      const attempts = item.attempts + 1;
      if (!r.retryable) {
        await this.dead(item, done, r.error, result);
        continue;
      }
      if (this.opts.maxAttempts > 0 && attempts >= this.opts.maxAttempts) {
        await this.dead(item, done, `gave up after ${attempts} attempts: ${r.error}`, result);
        continue;
      }
      const delay = Math.max(
        backoffMs(attempts, this.opts.backoffInitialMs, this.opts.backoffMaxMs, this.opts.random),
        r.retryAfterMs ?? 0,
      );
      const next = done + delay;
      await this.store.markRetry(item.id, attempts, next, r.error);
      this.logger.warn(
        { channel: name, outboxId: item.id, attempts, retryInMs: delay, error: r.error },
        "notification send failed; will retry",
      );
      result.retried += 1;
      this.limiters.pause(name, next);
      blockedUntil = next;
      blockedWhy = r.retryAfterMs !== undefined ? "vendor asked to retry later" : "previous send failed";
    }
  }

  private async report(
    item: OutboxItem,
    outcome: Parameters<NonNullable<OutboxWorkerOptions["onDelivered"]>>[1],
  ): Promise<void> {
    try {
      await this.opts.onDelivered?.(item, outcome);
    } catch (e) {
      // The notification is delivered and marked; a failed record of it must not make it resend.
      this.logger.warn({ err: e, outboxId: item.id }, "recording a delivery failed");
    }
  }

  private async dead(item: OutboxItem, now: number, error: string, result: RunResult): Promise<void> {
    await this.store.markDead(item.id, now, error);
    await this.report(item, { status: "dead", error });
    this.logger.error(
      {
        channel: item.channel,
        outboxId: item.id,
        incident: item.payload.incident.id,
        kind: item.payload.kind,
        error,
      },
      "notification dead: not retrying",
    );
    result.dead += 1;
  }

  /** Poll until stop(): immediately again after a full batch, else after poll_interval or wake(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.loop = (async () => {
      while (this.running) {
        let full = false;
        try {
          const r = await this.runOnce(this.clock.now());
          full =
            r.sent + r.retried + r.dead + r.deferred >= this.opts.batchSize &&
            r.deferred < this.opts.batchSize;
        } catch (e) {
          this.logger.error({ err: e }, "outbox poll failed");
        }
        if (this.running && !full) await this.sleep(this.opts.pollIntervalMs);
      }
    })();
  }

  /** Skip the rest of the current poll wait (call after enqueueing). */
  wake(): void {
    this.wakeResolve?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeResolve = () => {
        clearTimeout(this.wakeTimer);
        this.wakeResolve = undefined;
        resolve();
      };
      this.wakeTimer = setTimeout(() => this.wakeResolve?.(), ms);
    });
  }

  /** Stops polling and waits for in-flight sends; after graceMs they are aborted (and retried later). */
  async stop(graceMs: number = DEFAULT_STOP_GRACE_MS): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    const timer = setTimeout(() => this.abort.abort(), graceMs);
    try {
      await this.loop;
    } finally {
      clearTimeout(timer);
      this.loop = undefined;
    }
  }
}
