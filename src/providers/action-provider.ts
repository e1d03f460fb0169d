import type { Result } from "../core/index.js";

export const ACTION_VERBS = ["start", "stop", "restart", "scale", "status"] as const;
export type ActionVerb = (typeof ACTION_VERBS)[number];

export interface ActionRequest {
  verb: ActionVerb;
  /** The managed unit: a process name, a systemd unit, a Kubernetes deployment. */
  target: string;
  args: Record<string, string | number | boolean>;
  signal: AbortSignal;
}

export interface ActionOutput {
  /** Human-readable summary for the audit. */
  message: string;
  /** Structured facts (pids, replica counts) that later steps may read. */
  data: Record<string, unknown>;
}

/** Where runbook `action` steps land. Expected failures come back as values, never thrown. */
export interface ActionProvider {
  readonly name: string;
  run(req: ActionRequest): Promise<Result<ActionOutput>>;
}
