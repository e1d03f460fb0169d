import { DEFAULT_FAILED_AFTER_MS } from "./config.js";
import type { HealthState, HealthTarget, ProbeFailure, ProbeOutcome } from "./types.js";

export interface StateChange {
  from: HealthState;
  to: HealthState;
}

interface ProbeTrack {
  failing: boolean;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastMessage: string;
}

/**
 * The probe state machine of one target, with Kubernetes semantics: a probe turns failing after
 * `failureThreshold` consecutive failures and passing again after `successThreshold` consecutive
 * successes (probes start passing). The target's state follows from its probes:
 * - critical: a critical probe is failing; failed: critical for longer than `failedAfterMs`, or marked
 *   failed (remediation exhausted) until it recovers;
 * - recovering: was critical or failed, and every failing critical probe has started passing but has fewer
 *   than `successThreshold` consecutive successes;
 * - degraded: only warning probes are failing; healthy: none is.
 */
export class TargetHealth {
  private readonly probes = new Map<string, ProbeTrack>();
  private current: HealthState = "healthy";
  private since: number;
  private criticalSince: number | undefined;
  private markedFailed = false;

  constructor(
    readonly target: HealthTarget,
    now: number,
    private readonly failedAfterMs = DEFAULT_FAILED_AFTER_MS,
  ) {
    this.since = now;
    for (const p of target.probes)
      this.probes.set(p.name, {
        failing: false,
        consecutiveFailures: 0,
        consecutiveSuccesses: 0,
        lastMessage: "",
      });
  }

  get state(): HealthState {
    return this.current;
  }

  get stateSince(): number {
    return this.since;
  }

  /** Records one probe result; returns the change of state, if any. */
  record(probe: string, outcome: ProbeOutcome, now: number): StateChange | undefined {
    const cfg = this.target.probes.find((p) => p.name === probe);
    const t = this.probes.get(probe);
    if (!cfg || !t) return undefined;
    if (outcome.ok) {
      t.consecutiveSuccesses++;
      t.consecutiveFailures = 0;
      if (t.failing && t.consecutiveSuccesses >= cfg.successThreshold) t.failing = false;
    } else {
      t.consecutiveFailures++;
      t.consecutiveSuccesses = 0;
      t.lastMessage = outcome.message;
      if (!t.failing && t.consecutiveFailures >= cfg.failureThreshold) t.failing = true;
    }
    return this.evaluate(now);
  }

  /** Remediation gave up on this target: failed until its critical probes pass again. */
  markFailed(now: number): StateChange | undefined {
    this.markedFailed = true;
    return this.evaluate(now);
  }

  /** Re-derives the state (time alone can turn critical into failed); returns the change, if any. */
  evaluate(now: number): StateChange | undefined {
    const next = this.derive(now);
    if (next === this.current) return undefined;
    const from = this.current;
    this.current = next;
    this.since = now;
    return { from, to: next };
  }

  failing(): ProbeFailure[] {
    const out: ProbeFailure[] = [];
    for (const p of this.target.probes) {
      const t = this.probes.get(p.name);
      if (t?.failing) out.push({ probe: p.name, message: t.lastMessage, severity: p.severity });
    }
    // Critical first: the first entry names the target's worst problem.
    return out.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "critical" ? -1 : 1));
  }

  private derive(now: number): HealthState {
    let critical = false;
    let criticalStillFailing = false;
    let warning = false;
    for (const p of this.target.probes) {
      const t = this.probes.get(p.name) as ProbeTrack;
      if (!t.failing) continue;
      if (p.severity === "warning") warning = true;
      else {
        critical = true;
        if (t.consecutiveSuccesses === 0) criticalStillFailing = true;
      }
    }
    const wasBad = this.current === "critical" || this.current === "failed" || this.current === "recovering";
    if (critical && (criticalStillFailing || !wasBad)) {
      this.criticalSince ??= now;
      if (this.markedFailed || now - this.criticalSince > this.failedAfterMs) return "failed";
      return "critical";
    }
    if (critical) return "recovering";
    this.criticalSince = undefined;
    this.markedFailed = false;
    return warning ? "degraded" : "healthy";
  }
}
