import type { Result } from "../core/index.js";

/**
 * What an action step may ask of a provider. A provider answers an error value for a verb it does not
 * support.
 * - `start`, `stop`, `restart`: the unit's processes.
 * - `scale`: run `args.replicas` copies.
 * - `status`: what runs, as data.
 * - `rollback`: return the unit to its last known-good config/release.
 * - `cleanup`: free disk by removing what the unit can regenerate or lose (rotated logs).
 */
export const ACTION_VERBS = ["start", "stop", "restart", "scale", "status", "rollback", "cleanup"] as const;
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
