import type { Clock, Logger } from "../core/index.js";
import { DEFAULT_FAILED_AFTER_MS } from "./config.js";
import type { HealingMetrics } from "./metrics.js";
import { runProbe } from "./probes.js";
import { TargetHealth, type StateChange } from "./target-health.js";
import type { HealthState, HealthTarget, ProbeFailure, ProbeOutcome, Transition } from "./types.js";

/** How often the monitor looks for due probes (ms); probe periods are measured on the injected clock. */
export const MONITOR_TICK_MS = 250;

export interface HealthMonitorDeps {
  clock: Clock;
  logger: Logger;
  onTransition: (t: Transition) => void;
  metrics?: HealingMetrics;
  /** Critical for longer than this turns failed (ms). */
  failedAfterMs?: number;
  /** Runs one probe; tests may replace it, the default does real I/O. */
  runProbe?: typeof runProbe;
}

interface Watched {
  health: TargetHealth;
  /** Per probe: when it is next due (clock ms). */
  due: Map<string, number>;
  inFlight: Set<string>;
}

/**
 * Runs every target's probes on their periods and turns results into health states; each change of state
 * is reported once through `onTransition`.
 */
export class HealthMonitor {
  private readonly targets = new Map<string, Watched>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: HealthMonitorDeps) {}

  /** Adds a target, replacing one with the same id (its state starts over). */
  add(target: HealthTarget): void {
    const now = this.deps.clock.now();
    const due = new Map<string, number>();
    for (const p of target.probes) due.set(p.name, now + p.initialDelayMs);
    this.targets.set(target.id, {
      health: new TargetHealth(target, now, this.deps.failedAfterMs ?? DEFAULT_FAILED_AFTER_MS),
      due,
      inFlight: new Set(),
    });
  }

  remove(id: string): void {
    this.targets.delete(id);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.deps.logger.error({ err }, "health probes failed to run"));
    }, MONITOR_TICK_MS);
    this.timer.unref();
  }

  /** Stops scheduling and waits for probes in flight (their results are still recorded). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    while (this.running.size) await Promise.all([...this.running]);
  }

  /** Runs the probes that are due now and waits for them; also lets time turn critical into failed. */
  async tick(): Promise<void> {
    const now = this.deps.clock.now();
    const runs: Promise<void>[] = [];
    for (const [id, w] of this.targets) {
      this.apply(id, w, w.health.evaluate(now));
      for (const p of w.health.target.probes) {
        if (w.inFlight.has(p.name) || (w.due.get(p.name) ?? 0) > now) continue;
        w.inFlight.add(p.name);
        w.due.set(p.name, now + p.periodMs);
        const run = (this.deps.runProbe ?? runProbe)(p.spec, p.timeoutMs)
          .catch((err: unknown): ProbeOutcome => ({ ok: false, message: (err as Error).message }))
          .then((outcome) => {
            w.inFlight.delete(p.name);
            // A target replaced or removed meanwhile: the result belongs to the old one.
            if (this.targets.get(id) !== w) return;
            this.apply(id, w, w.health.record(p.name, outcome, this.deps.clock.now()));
          });
        const tracked = run.finally(() => this.running.delete(tracked));
        this.running.add(tracked);
        runs.push(tracked);
      }
    }
    await Promise.all(runs);
  }

  /** Remediation gave up on a target: it is failed until its probes pass. */
  markFailed(id: string): void {
    const w = this.targets.get(id);
    if (w) this.apply(id, w, w.health.markFailed(this.deps.clock.now()));
  }

  state(id: string): { state: HealthState; failing: ProbeFailure[]; since: number } | undefined {
    const w = this.targets.get(id);
    return w ? { state: w.health.state, failing: w.health.failing(), since: w.health.stateSince } : undefined;
  }

  states(): { target: HealthTarget; state: HealthState; failing: ProbeFailure[]; since: number }[] {
    return [...this.targets.values()].map((w) => ({
      target: w.health.target,
      state: w.health.state,
      failing: w.health.failing(),
      since: w.health.stateSince,
    }));
  }

  /** Share (0-1) of targets not healthy; 0 without targets. */
  unhealthyShare(): number {
    if (!this.targets.size) return 0;
    let bad = 0;
    for (const w of this.targets.values()) if (w.health.state !== "healthy") bad++;
    return bad / this.targets.size;
  }

  size(): number {
    return this.targets.size;
  }

  private apply(id: string, w: Watched, change: StateChange | undefined): void {
    if (!change) return;
    const t: Transition = {
      target: w.health.target,
      from: change.from,
      to: change.to,
      failing: w.health.failing(),
      at: this.deps.clock.now(),
    };
    this.deps.logger.info({ target: id, from: t.from, to: t.to, failing: t.failing }, "health state changed");
    try {
      this.deps.onTransition(t);
    } catch (err) {
      this.deps.logger.error({ err, target: id }, "transition handler failed");
    }
  }
}
