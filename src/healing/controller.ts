import type { Clock, Logger } from "../core/index.js";
import { matchesAll } from "../core/index.js";
import { renderString } from "../runbooks/index.js";
import { Backoff } from "./backoff.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import type { HealingConfig, HealingPolicy } from "./config.js";
import type { HealingMetrics } from "./metrics.js";
import type { Transition } from "./types.js";
import { UnhealthyLimit } from "./unhealthy-limit.js";

export interface HealingStart {
  runbook: string;
  params: Record<string, string>;
  target: string;
  reason: string;
  incidentId?: string;
  /** Executor shadow mode: plan and record, change nothing. */
  shadow?: boolean;
  /** The policy that asked; the executor audits it as actor `healing:<policy>`. */
  policy?: string;
}

export type RemediateResult =
  | { status: "started"; executionId: string }
  | {
      status: "held";
      reason: "backoff" | "breaker_open" | "limit" | "refused";
      retryAt?: number;
      message: string;
    };

export interface Forecast {
  target: string;
  labels: Record<string, string>;
  metric: string;
  /** Epoch ms at which the metric is forecast to cross the threshold. */
  crossesAt: number;
  threshold: number;
}

export interface HealingControllerDeps {
  clock: Clock;
  logger: Logger;
  metrics: HealingMetrics;
  config: HealingConfig;
  /** Starts a runbook through the executor (guards, kill switch); throws when it refuses. */
  start: (req: HealingStart) => Promise<{ executionId: string }>;
  page: (ev: { kind: string; message: string; target?: string }) => void;
  /** Share (0-1) of monitored targets not healthy, for the unhealthy limit. */
  unhealthyShare?: () => number;
  /** Number of monitored targets, for the limit's minimum; without it the minimum is not applied. */
  monitoredTargets?: () => number;
  /** Remediation of a target is exhausted (max_attempts failures in a row): the monitor marks it failed. */
  exhausted?: (target: string) => void;
}

interface Pending {
  target: string;
  runbook: string;
  startedAt: number;
  shadow: boolean;
  proactive: boolean;
}

/**
 * Decides whether a remediation may run (unhealthy limit, per-target CrashLoopBackOff, per-runbook circuit
 * breaker) and hands it to the runbook executor, whose guards have the last word. Policies map health
 * transitions (reactive) and forecast breaches (proactive) to runbooks.
 */
export class HealingController {
  private readonly backoff: Backoff;
  private readonly breaker: CircuitBreaker;
  private readonly limit: UnhealthyLimit;
  private readonly pending = new Map<string, Pending>();
  /** Failed remediations in a row per target. */
  private readonly failures = new Map<string, number>();
  /** Remediations started by onTransition, which does not wait for them. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly deps: HealingControllerDeps) {
    const c = deps.config;
    this.backoff = new Backoff({
      initialMs: c.backoff.initial,
      maxMs: c.backoff.max,
      resetAfterMs: c.backoff.reset_after,
    });
    this.breaker = new CircuitBreaker({
      failures: c.breaker.failures,
      windowMs: c.breaker.window,
      cooldownMs: c.breaker.cooldown,
    });
    this.limit = new UnhealthyLimit({
      maxUnhealthyShare: c.limit.max_unhealthy_share,
      minTargets: c.limit.min_targets,
    });
  }

  /**
   * One remediation request. Shadow requests skip backoff and breaker (they change nothing) but still go
   * through the limit and the executor.
   */
  async remediate(req: HealingStart, proactive = false): Promise<RemediateResult> {
    const { clock, logger } = this.deps;
    const now = clock.now();
    const shadow = req.shadow === true;
    const held = (r: Extract<RemediateResult, { status: "held" }>): RemediateResult => {
      logger.info({ target: req.target, runbook: req.runbook, ...r }, "remediation held");
      return r;
    };

    if (this.deps.unhealthyShare) {
      const share = this.deps.unhealthyShare();
      const verdict = this.limit.check(share, this.deps.monitoredTargets?.());
      if (verdict.page)
        this.deps.page({
          kind: "healing_limit",
          message: `${Math.round(share * 100)}% of monitored targets are unhealthy (limit ${Math.round(this.deps.config.limit.max_unhealthy_share * 100)}%): self-healing is holding all remediation. A human is needed.`,
        });
      if (verdict.hold)
        return held({
          status: "held",
          reason: "limit",
          message: `unhealthy share ${share.toFixed(2)} above ${this.deps.config.limit.max_unhealthy_share}`,
        });
    }
    if (!shadow) {
      const until = this.backoff.heldUntil(req.target, now);
      if (until !== undefined)
        return held({
          status: "held",
          reason: "backoff",
          retryAt: until,
          message: `target ${req.target} backing off for ${until - now}ms`,
        });
      const b = this.breaker.acquire(req.runbook, now);
      if (!b.ok)
        return held({
          status: "held",
          reason: "breaker_open",
          retryAt: b.retryAt,
          message: `circuit breaker of runbook ${req.runbook} is open`,
        });
    }

    let executionId: string;
    try {
      executionId = (await this.deps.start(req)).executionId;
    } catch (err) {
      if (!shadow) this.breaker.release(req.runbook);
      return held({ status: "held", reason: "refused", message: (err as Error).message });
    }
    this.pending.set(executionId, {
      target: req.target,
      runbook: req.runbook,
      startedAt: now,
      shadow,
      proactive,
    });
    if (!shadow) {
      this.backoff.attempted(req.target, now);
      this.deps.metrics.attempt(req.target, req.runbook);
    }
    logger.info(
      { target: req.target, runbook: req.runbook, execution: executionId, shadow },
      "remediation started",
    );
    return { status: "started", executionId };
  }

  /** The verified outcome of an execution; ids this controller did not start are ignored. */
  outcome(executionId: string, success: boolean): void {
    const p = this.pending.get(executionId);
    if (!p) return;
    this.pending.delete(executionId);
    if (p.shadow) return;
    const now = this.deps.clock.now();
    if (success) {
      this.breaker.success(p.runbook, now);
      this.failures.delete(p.target);
      this.deps.metrics.success(p.target, p.runbook, (now - p.startedAt) / 1000);
      if (p.proactive) this.deps.metrics.prevented(p.target);
      return;
    }
    this.breaker.failure(p.runbook, now);
    const n = (this.failures.get(p.target) ?? 0) + 1;
    this.failures.set(p.target, n);
    if (n === this.deps.config.max_attempts) {
      this.deps.page({
        kind: "healing_exhausted",
        message: `${n} remediations of ${p.target} failed in a row (last: ${p.runbook}). A human is needed.`,
        target: p.target,
      });
      this.deps.exhausted?.(p.target);
    }
  }

  /** Resolves when no remediation started by a transition is still being decided or started. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  /** The target was seen healthy: starts its backoff reset clock and clears its failure count. */
  healthy(target: string): void {
    this.backoff.healthy(target, this.deps.clock.now());
    this.failures.delete(target);
  }

  /** Reactive policies: a health transition may start runbooks (each through `remediate`). */
  onTransition(t: Transition): void {
    if (t.to === "healthy") {
      this.healthy(t.target.id);
      return;
    }
    this.backoff.unhealthy(t.target.id, t.at);
    if (t.to === "recovering") return;
    const scope = { target: { id: t.target.id, labels: t.target.labels }, state: t.to };
    const reason = `${t.target.id} ${t.from} -> ${t.to}${t.failing.length ? `: ${t.failing.map((f) => `${f.probe}: ${f.message}`).join("; ")}` : ""}`;
    for (const policy of this.deps.config.policies) {
      const when = policy.when;
      if (!("state" in when) || !(when.state as readonly string[]).includes(t.to)) continue;
      if (!matchesAll(when.matchers, t.target.labels)) continue;
      const params = this.params(policy, scope);
      if (!params) continue;
      const p = this.remediate({
        runbook: policy.runbook,
        params,
        target: t.target.id,
        reason: `policy ${policy.name}: ${reason}`,
        policy: policy.name,
        ...(policy.shadow ? { shadow: true } : {}),
      })
        .catch((err: unknown) =>
          this.deps.logger.error({ err, policy: policy.name }, "remediation failed to run"),
        )
        .finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Proactive policies: a forecast breach may start runbooks before it happens; shadow ones only record. */
  async onForecast(f: Forecast): Promise<void> {
    const labels = { ...f.labels, metric: f.metric };
    const scope = {
      target: { id: f.target, labels: f.labels },
      forecast: { metric: f.metric, threshold: f.threshold, crosses_at: new Date(f.crossesAt).toISOString() },
    };
    for (const policy of this.deps.config.policies) {
      const when = policy.when;
      if (!("forecast" in when) || !matchesAll(when.forecast, labels)) continue;
      this.deps.metrics.predicted(f.target, f.metric);
      const params = this.params(policy, scope);
      if (!params) continue;
      await this.remediate(
        {
          runbook: policy.runbook,
          params,
          target: f.target,
          policy: policy.name,
          reason: `policy ${policy.name}: ${f.metric} of ${f.target} forecast to cross ${f.threshold} at ${scope.forecast.crosses_at}`,
          ...(policy.shadow ? { shadow: true } : {}),
        },
        true,
      );
    }
  }

  private params(
    policy: HealingPolicy,
    scope: Record<string, Record<string, unknown> | string>,
  ): Record<string, string> | undefined {
    const out: Record<string, string> = {};
    try {
      for (const [k, v] of Object.entries(policy.params)) out[k] = renderString(v, scope as never);
      return out;
    } catch (err) {
      this.deps.logger.warn(
        { err: (err as Error).message, policy: policy.name },
        "policy params did not render",
      );
      return undefined;
    }
  }
}
