import type { Runbook } from "./schema.js";

export const EXECUTION_STATUSES = [
  "pending",
  "running",
  "waiting_approval",
  "waiting_manual",
  "succeeded",
  "failed",
  "rolled_back",
  "aborted",
  "interrupted",
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const ACTIVE_STATUSES: readonly ExecutionStatus[] = [
  "pending",
  "running",
  "waiting_approval",
  "waiting_manual",
];
export const TERMINAL_STATUSES: readonly ExecutionStatus[] = [
  "succeeded",
  "failed",
  "rolled_back",
  "aborted",
  "interrupted",
];

export type ExecutionMode = "live" | "shadow";

/** What a finished step left behind, for later templates (`steps.ID.stdout`) and the audit. */
export interface StepResult {
  status: "succeeded" | "failed" | "skipped" | "shadow";
  exit_code?: number;
  stdout?: string;
  stderr?: string;
  http_status?: number;
  body?: string;
  json?: unknown;
  value?: unknown;
  note?: string;
  actor?: string;
  attempts?: number;
  error?: string;
  truncated?: boolean;
  started_at?: number;
  finished_at?: number;
}

/** A person the execution waits on: an approval bound to a plan hash, or a manual task. */
export interface Waiting {
  kind: "approval" | "manual";
  stepId: string;
  /** Epoch ms after which the wait fails. */
  deadline: number;
  role: "operator" | "admin";
  message: string;
}

export interface Execution {
  id: string;
  runbook: Runbook;
  /** SHA-256 of the runbook as parsed: which version ran. */
  runbookHash: string;
  /** Directory of the runbook file, for script steps; null for inline runbooks. */
  baseDir: string | null;
  params: Record<string, string | number | boolean>;
  target: string | null;
  mode: ExecutionMode;
  status: ExecutionStatus;
  /** Index of the step to run next (or running now). */
  cursor: number;
  /** How many steps have started, across gotos; bounded to stop loops. */
  stepsRun: number;
  /**
   * Results by step id. A result is replaced, never changed in place: the store serialises each
   * result object once and reuses that JSON on every later save of the execution.
   */
  results: Record<string, Readonly<StepResult>>;
  /** Ids of completed steps that declared a rollback, in completion order. */
  rollbackStack: string[];
  /** Id of the step that has started and not yet finished (for crash recovery). */
  inFlight: string | null;
  waiting: Waiting | null;
  /** SHA-256 of the masked rendered plan; approvals must echo it. */
  planHash: string;
  incidentId: string | null;
  incidentLabels: Record<string, string>;
  requestedBy: string;
  reason: string;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  leaseOwner: string | null;
  leaseUntil: number;
}

export type AuditEvent =
  | "execution.requested"
  | "execution.refused"
  | "execution.started"
  | "execution.finished"
  | "execution.resumed"
  | "execution.interrupted"
  | "execution.abort_requested"
  | "step.started"
  | "step.finished"
  | "step.skipped"
  | "step.shadow"
  | "rollback.started"
  | "rollback.finished"
  | "approval.requested"
  | "approval.granted"
  | "approval.rejected"
  | "approval.refused"
  | "manual.completed"
  | "manual.refused"
  | "access.refused"
  | "verify.cleared"
  | "verify.failed"
  | "escalated"
  | "dry_run"
  | "halt"
  | "resume"
  | "storm_breaker";

export interface AuditEntry {
  executionId: string | null;
  at: number;
  actor: string;
  event: AuditEvent;
  stepId: string | null;
  attempt: number | null;
  data: Record<string, unknown>;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
}

export interface ExecutionFilter {
  status?: readonly ExecutionStatus[];
  runbook?: string;
  target?: string;
  incidentId?: string;
  /** Page: executions older than this id. */
  before?: string;
  limit: number;
}

/** Which runbook a finished remediation used on which incident signature, and whether it worked. */
export interface Outcome {
  signature: string;
  runbook: string;
  incidentId: string;
  executionId: string;
  success: boolean;
  at: number;
}

/** Persistence for executions, the append-only audit and outcomes. Implemented in storage/. */
export interface ExecutionStore {
  insert(e: Execution, audit: readonly AuditEntry[]): Promise<void>;
  /** Saves the execution and appends audit entries in one transaction. */
  save(e: Execution, audit: readonly AuditEntry[]): Promise<void>;
  get(id: string): Promise<Execution | undefined>;
  list(filter: ExecutionFilter): Promise<Execution[]>;
  /** Active executions (pending, running, waiting) whose lease has ended before `now`. */
  orphans(now: number): Promise<Execution[]>;
  /**
   * Takes the lease if it is free, expired, ours, or held by `takeFrom` (an owner known to be dead);
   * false if another owner holds it.
   */
  claim(id: string, owner: string, until: number, now: number, takeFrom: string | null): Promise<boolean>;
  /** Extends the lease of every active execution `owner` holds. */
  renew(owner: string, until: number): Promise<void>;
  /** Count of executions of `runbook` created at or after `since`. */
  /** Live executions created since `since`: of one runbook, or of all but the `except` ones. */
  countSince(runbook: string | null, since: number, except?: readonly string[]): Promise<number>;
  /** Latest finish time of an execution on `target` (for cooldowns). */
  lastFinishedOn(target: string): Promise<number | null>;
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  audit(executionId: string | null, limit: number): Promise<StoredAuditEntry[]>;
  recordOutcome(o: Outcome): Promise<void>;
  outcomes(limit: number): Promise<Outcome[]>;
}
