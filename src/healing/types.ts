export type HealthState = "healthy" | "degraded" | "critical" | "failed" | "recovering";

export type ProbeSpec =
  | { kind: "http"; url: string; expectStatus?: number[] }
  | { kind: "tcp"; host: string; port: number }
  /** Passes when the pid exists, is not stopped (SIGSTOP) and is not a zombie. */
  | { kind: "process"; pid: () => number | undefined }
  | { kind: "command"; argv: string[]; cwd?: string }
  /** Fails when `read() op threshold` holds: the threshold is the breach condition. */
  | {
      kind: "metric";
      read: () => number | undefined;
      op: ">" | ">=" | "<" | "<=";
      threshold: number;
      whenAbsent?: "ok" | "fail";
    };

export type Severity = "critical" | "warning";

export interface ProbeConfig {
  name: string;
  spec: ProbeSpec;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
  initialDelayMs: number;
  /** A failing critical probe makes the target critical; only warning probes failing, degraded. */
  severity: Severity;
}

export interface HealthTarget {
  id: string;
  labels: Record<string, string>;
  probes: ProbeConfig[];
}

export interface ProbeFailure {
  probe: string;
  message: string;
  severity: Severity;
}

export interface Transition {
  target: HealthTarget;
  from: HealthState;
  to: HealthState;
  failing: ProbeFailure[];
  at: number;
}

/** One probe run: passed, or failed with why. */
export type ProbeOutcome = { ok: true } | { ok: false; message: string };
