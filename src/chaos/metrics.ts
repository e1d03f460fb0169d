import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface ChaosMetrics {
  experimentFinished(status: string, level: string): void;
  recoveryTime(seconds: number): void;
  blastRadius(targets: number): void;
  safetyViolation(kind: string): void;
}

/** The chaos engine's Prometheus metrics, registered on the app's registry. */
export function createChaosMetrics(registry: Registry): ChaosMetrics {
  const experiments = new Counter({
    name: "chaos_experiments_total",
    help: "Chaos experiments by outcome (completed, deviated, aborted, failed, refused, dry-run) and level",
    labelNames: ["status", "level"],
    registers: [registry],
  });
  const recovery = new Histogram({
    name: "chaos_recovery_time_seconds",
    help: "Seconds from reverting the faults until the steady state held again",
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  const radius = new Gauge({
    name: "chaos_blast_radius",
    help: "Targets hit by the last experiment run",
    registers: [registry],
  });
  const violations = new Counter({
    name: "safety_violations_total",
    help: "Chaos safety checks that refused or aborted a run, by kind",
    labelNames: ["kind"],
    registers: [registry],
  });
  return {
    experimentFinished: (status, level) => experiments.inc({ status, level }),
    recoveryTime: (s) => recovery.observe(s),
    blastRadius: (n) => radius.set(n),
    safetyViolation: (kind) => violations.inc({ kind }),
  };
}
