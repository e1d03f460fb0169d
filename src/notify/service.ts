import type { Registry } from "prom-client";
import type { Clock, Logger } from "../core/index.js";
import type { Channel } from "./channels/channel.js";
import type { NotifyConfig } from "./config.js";
import { Dispatcher, type DispatcherEvent, type DispatcherSnapshot } from "./dispatcher.js";
import { createNotifyMetrics } from "./metrics.js";
import type { OutboxStore } from "./outbox.js";
import { OutboxWorker, outboxWorkerOptions, type OutboxWorkerOptions } from "./outbox-worker.js";
import { RateLimiters } from "./rate-limit.js";
import type { Silence } from "./silences.js";
import type { IncidentRef, Notification, NotifyAlert } from "./types.js";

/** Even with nothing due, re-check this often so silence changes and clock jumps are picked up. */
export const MAX_TICK_DELAY_MS = 30_000;

export interface NotifyServiceDeps {
  config: NotifyConfig;
  store: OutboxStore;
  channels: ReadonlyMap<string, Channel>;
  clock: Clock;
  logger: Logger;
  registry?: Registry;
  /** Dispatcher state persistence; saved after its notifications are in the outbox. */
  loadSnapshot?: () => Promise<DispatcherSnapshot | undefined>;
  saveSnapshot?: (s: DispatcherSnapshot) => Promise<void>;
  /** Silence expiries and muted alerts, for the incident timeline. */
  onEvents?: (events: DispatcherEvent[]) => Promise<void>;
  /** Final outcome of each outbox item (sent or dead). */
  onDelivered?: OutboxWorkerOptions["onDelivered"];
  /**
   * Ingests that flush nothing save the dispatcher state at most this often (ms). Flushes always save.
   * Alerts still waiting in group_wait when a crash hits are not lost: the host re-ingests every firing
   * alert at start.
   */
  snapshotMinIntervalMs?: number;
}

/** Default for NotifyServiceDeps.snapshotMinIntervalMs: a whole-state save per webhook call would dominate ingest. */
export const DEFAULT_SNAPSHOT_MIN_INTERVAL_MS = 1000;

/**
 * The live host around the pure Dispatcher: serialises ingest/tick, stores notifications in the
 * outbox before anything is sent, persists the dispatcher's state, drives ticks with one timer, and
 * runs the outbox worker. Order matters for crash safety: enqueue, then save the snapshot; a crash
 * in between re-flushes identical notifications, which the outbox drops by idempotency key.
 */
export class NotifyService {
  readonly dispatcher: Dispatcher;
  readonly worker: OutboxWorker;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastSavedAt = Number.NEGATIVE_INFINITY;
  private dirty = false;

  constructor(private readonly deps: NotifyServiceDeps) {
    this.dispatcher = new Dispatcher(deps.config);
    const metrics = deps.registry ? createNotifyMetrics(deps.registry, deps.store) : undefined;
    this.worker = new OutboxWorker(
      deps.store,
      deps.channels,
      RateLimiters.fromConfig(deps.config, deps.clock.now()),
      deps.clock,
      deps.logger,
      outboxWorkerOptions(deps.config.outbox, {
        ...(metrics ? { metrics } : {}),
        ...(deps.onDelivered ? { onDelivered: deps.onDelivered } : {}),
      }),
    );
  }

  async start(): Promise<void> {
    const snap = await this.deps.loadSnapshot?.();
    if (snap) this.dispatcher.restore(snap);
    this.running = true;
    this.worker.start();
    await this.serial(() => this.tickNow());
  }

  ingest(alerts: readonly NotifyAlert[]): Promise<void> {
    return this.serial(async () => {
      this.dispatcher.ingest(alerts, this.deps.clock.now());
      await this.tickNow();
    });
  }

  /** Flush whatever is due now (the internal timer does this too once started). */
  tick(): Promise<void> {
    return this.serial(() => this.tickNow());
  }

  /** A human acknowledged or resolved the incident: tell the channels its alerts went to. */
  incidentEvent(incident: IncidentRef, kind: "acknowledge" | "resolve"): Promise<Notification[]> {
    return this.serial(async () => {
      const ns = this.dispatcher.incidentEvent(incident, kind, this.deps.clock.now());
      await this.commit(ns);
      return ns;
    });
  }

  setSilences(silences: readonly Silence[]): Promise<void> {
    return this.serial(async () => {
      this.dispatcher.setSilences(silences);
      await this.tickNow();
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.chain.catch(() => undefined);
    if (this.dirty) await this.deps.saveSnapshot?.(this.dispatcher.snapshot());
    await this.worker.stop();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async tickNow(): Promise<void> {
    const ns = this.dispatcher.tick(this.deps.clock.now());
    await this.commit(ns);
    const events = this.dispatcher.drainEvents();
    if (events.length > 0) await this.deps.onEvents?.(events);
    this.schedule();
  }

  private async commit(ns: Notification[]): Promise<void> {
    if (ns.length > 0) {
      await this.deps.store.enqueue(
        ns.map((n) => ({
          idempotencyKey: n.idempotencyKey,
          channel: n.channel,
          payload: n,
          createdAt: n.createdAt,
        })),
      );
      this.worker.wake();
    }
    const now = this.deps.clock.now();
    this.dirty = true;
    if (
      ns.length > 0 ||
      now - this.lastSavedAt >= (this.deps.snapshotMinIntervalMs ?? DEFAULT_SNAPSHOT_MIN_INTERVAL_MS)
    ) {
      await this.deps.saveSnapshot?.(this.dispatcher.snapshot());
      this.lastSavedAt = now;
      this.dirty = false;
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    const next = this.dispatcher.nextWakeAt();
    const delay =
      next === undefined
        ? MAX_TICK_DELAY_MS
        : Math.min(MAX_TICK_DELAY_MS, Math.max(0, next - this.deps.clock.now()));
    this.timer = setTimeout(() => {
      this.serial(() => this.tickNow()).catch((e: unknown) =>
        this.deps.logger.error({ err: e }, "notify tick failed"),
      );
    }, delay);
  }
}
