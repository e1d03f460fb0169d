import { z } from "zod";
import { fail, ok, type Logger, type Result } from "../core/index.js";
import type { ActionOutput, ActionProvider, ActionRequest } from "../providers/index.js";
import { runbookSchema, TERMINAL_STATUSES, type Execution, type Runbook } from "../runbooks/index.js";
import { DEFAULT_ACTION_TIMEOUT_MS, runAction, runActions, type Action } from "./actions.js";
import type { FaultExecutor } from "./engine.js";
import type { PlannedFault } from "./faults.js";

/** Name of the action provider that runs chaos actions inside runbook executions. */
export const CHAOS_PROVIDER = "chaos";
/** Runbook names of the inline runbooks a fault's apply and revert run as (rate limits key on them). */
export const CHAOS_APPLY_RUNBOOK = "chaos-apply";
export const CHAOS_REVERT_RUNBOOK = "chaos-revert";
/** How often the fault executor looks at its runbook execution while waiting for it to end (ms). */
export const EXECUTION_POLL_MS = 20;
/**
 * How long the fault executor waits for its execution beyond the actions' own timeouts (queueing behind
 * other executions, executor shutdown) before it gives up: the apply fails, the revert runs directly (ms).
 */
export const EXECUTION_WAIT_SLACK_MS = 60_000;
/** Longest JSON of one action carried as a runbook parameter (characters). */
export const MAX_ACTION_JSON_CHARS = 100_000;

/** A step's timeout: the action's own, plus room for the provider call around it (ms). */
const STEP_TIMEOUT_MS = DEFAULT_ACTION_TIMEOUT_MS + 5_000;

const ACTION_KINDS = [
  "exec",
  "signal",
  "http",
  "unlink",
  "write-file",
  "fill-file",
  "spawn",
  "kill-marker",
  "in-process",
] as const satisfies readonly Action["kind"][];
const actionShape = z.looseObject({ kind: z.enum(ACTION_KINDS) });

/**
 * Runs one chaos action (`args.action`, the action's JSON) for a runbook `action` step: verb `start`
 * applies a fault, `stop` reverts one. The action runs exactly as the standalone engine runs it; the step
 * adds the executor's envelope (kill switch, guards, audit).
 */
export class ChaosActionProvider implements ActionProvider {
  readonly name = CHAOS_PROVIDER;
  async run(req: ActionRequest): Promise<Result<ActionOutput>> {
    if (req.verb !== "start" && req.verb !== "stop")
      return fail(`the chaos provider supports start (apply) and stop (revert), not ${req.verb}`, false);
    const raw = req.args["action"];
    let parsed: unknown;
    try {
      parsed = typeof raw === "string" ? JSON.parse(raw) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!actionShape.safeParse(parsed).success)
      return fail("args.action must be the JSON of a chaos action ({kind: ...})", false);
    const r = await runAction(parsed as Action, DEFAULT_ACTION_TIMEOUT_MS);
    if (r.status === "error") return r;
    return ok({ message: r.value, data: { fault: req.target } });
  }
}

/** An inline runbook with one `chaos` action step per fault action; the actions travel as parameters. */
function faultRunbook(name: string, verb: "start" | "stop", actions: readonly Action[]): Runbook {
  const params: Record<string, unknown> = {
    fault: { type: "string", required: true },
    run: { type: "string", required: true },
  };
  const steps = actions.map((_, i) => {
    params[`a${i + 1}`] = { type: "string", required: true, max_length: MAX_ACTION_JSON_CHARS };
    return {
      id: `a${i + 1}`,
      kind: "action",
      provider: CHAOS_PROVIDER,
      verb,
      target: "{{ params.fault }}",
      args: { action: `{{ params.a${i + 1} }}` },
      timeout: STEP_TIMEOUT_MS,
      // Like the direct executor: every action runs; the failures are reported together.
      on_failure: "continue",
    };
  });
  return runbookSchema.parse({
    name,
    description: `chaos fault ${verb === "start" ? "apply" : "revert"} (built by the chaos engine)`,
    category: "chaos",
    risk: "low",
    params,
    steps,
  });
}

/** The slice of RunbookExecutor the fault executor uses. */
export interface RunbookExecutorPort {
  start(req: {
    runbook: Runbook;
    baseDir: string | null;
    params: Record<string, unknown>;
    actor: string;
    reason?: string;
  }): Promise<Execution>;
  get(id: string): Promise<Execution>;
}

export interface RunbookFaultExecutorOptions {
  executor: RunbookExecutorPort;
  logger?: Logger;
  /** Recorded as the execution's requester; default `system:chaos`. */
  actor?: string;
}

/**
 * A FaultExecutor for the engine inside the app: each fault's apply and revert is a runbook execution, so
 * the kill switch and guards can refuse a new fault and the audit trail records every injection. A refused
 * apply applies nothing (its errors abort the run). A refused revert runs directly instead: a halt must
 * never leave a fault in place. The ledger entry is still the engine's, written before the apply.
 */
export function runbookFaultExecutor(opts: RunbookFaultExecutorOptions): FaultExecutor {
  const actor = opts.actor ?? "system:chaos";
  const run = async (
    f: PlannedFault,
    runId: string,
    name: string,
    verb: "start" | "stop",
    actions: readonly Action[],
  ): Promise<Result<string[]>> => {
    if (!actions.length) return ok([]);
    const params: Record<string, unknown> = { fault: f.name, run: runId };
    actions.forEach((a, i) => (params[`a${i + 1}`] = JSON.stringify(a)));
    let e: Execution;
    try {
      e = await opts.executor.start({
        runbook: faultRunbook(name, verb, actions),
        baseDir: null,
        params,
        actor,
        reason: `chaos run ${runId}: ${verb === "start" ? "apply" : "revert"} ${f.name} (${f.type}) on ${f.targets.join(", ")}`,
      });
    } catch (err) {
      return fail(`${name} refused: ${(err as Error).message}`, true);
    }
    const deadline = performance.now() + actions.length * STEP_TIMEOUT_MS + EXECUTION_WAIT_SLACK_MS;
    while (!TERMINAL_STATUSES.includes(e.status)) {
      if (performance.now() > deadline)
        return fail(`execution ${e.id} of ${name} still ${e.status}; gave up waiting`, true);
      await new Promise((r) => setTimeout(r, EXECUTION_POLL_MS));
      e = await opts.executor.get(e.id);
    }
    const errors = Object.entries(e.results)
      .filter(([, r]) => r.status === "failed")
      .map(([id, r]) => `${id}: ${r.error ?? "failed"}`);
    if (e.status !== "succeeded" && !errors.length)
      errors.push(`execution ${e.id} ${e.status}${e.error ? `: ${e.error}` : ""}`);
    return ok(errors);
  };
  return {
    apply: async (f, runId) => {
      const r = await run(f, runId, CHAOS_APPLY_RUNBOOK, "start", f.apply);
      return r.status === "ok" ? r.value : [r.error];
    },
    revert: async (f, runId) => {
      const r = await run(f, runId, CHAOS_REVERT_RUNBOOK, "stop", f.revert);
      if (r.status === "ok") return r.value;
      opts.logger?.warn(
        { fault: f.name, runId, reason: r.error },
        "revert not done by the executor; reverting directly",
      );
      return runActions(f.revert);
    },
  };
}
