import { Counter, Histogram, type Registry } from "prom-client";

export interface HealingMetrics {
  attempt(target: string, runbook: string): void;
  success(target: string, runbook: string, seconds: number): void;
  /** A forecast matched a proactive policy (shadow or live). */
  predicted(target: string, metric: string): void;
  /** A proactive remediation succeeded before the forecast breach. */
  prevented(target: string): void;
}

export function createHealingMetrics(registry: Registry): HealingMetrics {
  const attempts = new Counter({
    name: "self_healing_attempts_total",
    help: "Remediations started by self-healing (live), by target and runbook",
    labelNames: ["target", "runbook"],
    registers: [registry],
  });
  const successes = new Counter({
    name: "self_healing_successes_total",
    help: "Self-healing remediations whose outcome was a success, by target and runbook",
    labelNames: ["target", "runbook"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "healing_duration_seconds",
    help: "From a successful self-healing remediation's start to its verified outcome",
    labelNames: ["runbook"],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const predicted = new Counter({
    name: "predicted_failures_total",
    help: "Forecast breaches that matched a proactive healing policy",
    labelNames: ["target", "metric"],
    registers: [registry],
  });
  const prevented = new Counter({
    name: "prevented_incidents_total",
    help: "Proactive remediations that succeeded before the forecast breach",
    labelNames: ["target"],
    registers: [registry],
  });
  return {
    attempt: (target, runbook) => attempts.inc({ target, runbook }),
    success(target, runbook, seconds) {
      successes.inc({ target, runbook });
      duration.observe({ runbook }, seconds);
    },
    predicted: (target, metric) => predicted.inc({ target, metric }),
    prevented: (target) => prevented.inc({ target }),
  };
}
