import type { FaultType, Level } from "./experiment.js";

export interface LevelPolicy {
  /** Fault types allowed at this level. */
  faults: readonly FaultType[];
  /** Default blast radius; an experiment may only tighten it. */
  maxTargets: number;
  maxShare: number;
  /** Guard probes (auto-abort) are mandatory. */
  requireGuards: boolean;
  /** A steady-state hypothesis is mandatory. */
  requireSteadyState: boolean;
  /** CPU load ceiling per worker, percent. */
  maxCpuPct: number;
  /** Longest single fault duration, ms (faults without `duration` hold for the method). */
  maxFaultMs: number;
  /** The operator must confirm explicitly (CLI `--yes-production`). */
  requireConfirmation: boolean;
}

const ALL: readonly FaultType[] = [
  "toxic",
  "process-kill",
  "process-pause",
  "process-restart",
  "cpu",
  "memory",
  "disk-fill",
  "net-loss",
  "net-partition",
  "net-bandwidth",
  "net-latency",
  "time-skew",
];

const HOUR_MS = 3_600_000;

/** What each level allows. Dry-run allows planning everything and applies nothing. */
export const LEVEL_POLICIES: Record<Level, LevelPolicy> = {
  "dry-run": {
    faults: ALL,
    maxTargets: Number.MAX_SAFE_INTEGER,
    maxShare: 1,
    requireGuards: false,
    requireSteadyState: false,
    maxCpuPct: 100,
    maxFaultMs: Number.MAX_SAFE_INTEGER,
    requireConfirmation: false,
  },
  dev: {
    faults: ALL,
    maxTargets: 100,
    maxShare: 1,
    requireGuards: false,
    requireSteadyState: false,
    maxCpuPct: 100,
    maxFaultMs: 4 * HOUR_MS,
    requireConfirmation: false,
  },
  staging: {
    faults: ALL,
    maxTargets: 20,
    maxShare: 0.5,
    requireGuards: false,
    requireSteadyState: true,
    maxCpuPct: 100,
    maxFaultMs: HOUR_MS,
    requireConfirmation: false,
  },
  canary: {
    faults: [
      "toxic",
      "process-kill",
      "process-pause",
      "process-restart",
      "cpu",
      "net-loss",
      "net-bandwidth",
      "net-latency",
    ],
    maxTargets: 5,
    maxShare: 0.25,
    requireGuards: true,
    requireSteadyState: true,
    maxCpuPct: 50,
    maxFaultMs: 15 * 60_000,
    requireConfirmation: false,
  },
  production: {
    faults: ["toxic", "process-kill", "process-pause", "process-restart", "cpu"],
    maxTargets: 2,
    maxShare: 0.1,
    requireGuards: true,
    requireSteadyState: true,
    maxCpuPct: 25,
    maxFaultMs: 10 * 60_000,
    requireConfirmation: true,
  },
};

export interface BlastRadius {
  targets: number;
  /** Largest share of one fault's candidates that it hits. */
  share: number;
}

/** Returns the violations of the blast-radius limits (empty when within). */
export function blastRadiusViolations(
  radius: BlastRadius,
  limit: { maxTargets: number; maxShare: number },
): string[] {
  const out: string[] = [];
  if (radius.targets > limit.maxTargets)
    out.push(`blast radius: ${radius.targets} targets exceed the limit of ${limit.maxTargets}`);
  if (radius.share > limit.maxShare + 1e-9)
    out.push(
      `blast radius: ${(radius.share * 100).toFixed(1)}% of targets exceeds the limit of ${(limit.maxShare * 100).toFixed(1)}%`,
    );
  return out;
}
