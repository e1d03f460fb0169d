import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface RunbookMetrics {
  finished(runbook: string, status: string, mode: string): void;
  refused(runbook: string, code: string): void;
  step(kind: string, seconds: number): void;
  /** A remediation tied to an incident was verified (the signal cleared) or not. */
  remediation(resolved: boolean): void;
}

export function createRunbookMetrics(registry: Registry): RunbookMetrics {
  const executions = new Counter({
    name: "runbook_executions_total",
    help: "Runbook executions that reached a terminal status",
    labelNames: ["runbook", "status", "mode"],
    registers: [registry],
  });
  const refusals = new Counter({
    name: "runbook_refusals_total",
    help: "Runbook runs refused by validation or the guards, by error code",
    labelNames: ["runbook", "code"],
    registers: [registry],
  });
  const steps = new Histogram({
    name: "runbook_step_duration_seconds",
    help: "Duration of runbook steps by kind",
    labelNames: ["kind"],
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  const remediations = new Counter({
    name: "auto_remediations_total",
    help: "Remediations tied to incidents, by whether the signal cleared",
    labelNames: ["result"],
    registers: [registry],
  });
  let resolved = 0;
  let total = 0;
  const rate = new Gauge({
    name: "auto_remediation_rate",
    help: "Share of remediations since start whose incident signal cleared (0-1)",
    registers: [registry],
  });
  return {
    finished: (runbook, status, mode) => executions.inc({ runbook, status, mode }),
    refused: (runbook, code) => refusals.inc({ runbook, code }),
    step: (kind, seconds) => steps.observe({ kind }, seconds),
    remediation(ok) {
      total++;
      if (ok) resolved++;
      remediations.inc({ result: ok ? "resolved" : "failed" });
      rate.set(resolved / total);
    },
  };
}
