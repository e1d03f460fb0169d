export * from "./model.js";
export {
  runbookSchema,
  stepSchema,
  matcherSchema,
  triggerSchema,
  runbookJsonSchema,
  shellSpliceProblem,
  isIdempotent,
  RISK_LEVELS,
  DEFAULT_OUTPUT_LIMIT_BYTES,
  DEFAULT_STEP_TIMEOUT_MS,
  DEFAULT_APPROVAL_TIMEOUT_MS,
  DEFAULT_VALIDATE_DEADLINE_MS,
  DEFAULT_VALIDATE_INTERVAL_MS,
  DEFAULT_RETRY_BACKOFF_MS,
} from "./schema.js";
export type { Runbook, RunbookInput, Step, StepKind, Matcher, Trigger, RiskLevel } from "./schema.js";
export {
  runbooksConfigSchema,
  DEFAULT_MAX_CONCURRENT,
  DEFAULT_TARGET_COOLDOWN_MS,
  DEFAULT_RUNBOOK_RATE_MAX,
  DEFAULT_RUNBOOK_RATE_WINDOW_MS,
  DEFAULT_STORM_MAX,
  DEFAULT_STORM_WINDOW_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MIN_CONFIDENCE,
  MAX_STEPS_PER_EXECUTION,
} from "./config.js";
export type { RunbooksConfig } from "./config.js";
export { evalExpression, evalCondition, renderString, parseExpression, ExprError } from "./expr.js";
export {
  resolveParams,
  renderPlan,
  renderTarget,
  planHash,
  createSecretSource,
  maskText,
  SECRET_MASK,
} from "./render.js";
export type { Plan, PlanStep, Params, SecretSource } from "./render.js";
export { parseRunbook, loadRunbookFile, loadLibrary, builtinRunbookDir, RunbookError } from "./load.js";
export type { Problem, LoadedRunbook } from "./load.js";
export {
  RunbookExecutor,
  ROLE_RANK,
  HALT_SETTING,
  HALT_CACHE_MS,
  AUDIT_VALUE_LIMIT_CHARS,
} from "./executor.js";
export type { ExecutorDeps, StartRequest, HaltState, KillSwitchStore, Role } from "./executor.js";
export { RunbookService, VERIFY_POLL_MS, DEFAULT_VERIFY_DEADLINE_MS } from "./service.js";
export type { RunbookServiceDeps, IncidentsPort, RunbookMatch } from "./service.js";
export {
  incidentSignature,
  signatureSimilarity,
  rankRunbooks,
  draftRunbook,
  splitCommand,
} from "./learning.js";
export type { Suggestion } from "./learning.js";
export { matches, matchesAll } from "./matchers.js";
export {
  registerRunbookRoutes,
  executionView,
  DEFAULT_EXECUTION_LIMIT,
  MAX_EXECUTION_LIMIT,
} from "./http-routes.js";
export type { RunbookRouteDeps } from "./http-routes.js";
export { createRunbookMetrics } from "./metrics.js";
export type { RunbookMetrics } from "./metrics.js";
export { escalationAlert, ESCALATION_ALERTNAME, ESCALATION_SOURCE } from "./escalation.js";
export type { Escalation } from "./escalation.js";
