export { ChaosEngine, directExecutor, PLATFORM_POLL_MS, BLOCKING_SEVERITIES } from "./engine.js";
export type {
  ChaosEngineDeps,
  FaultExecutor,
  Journal,
  JournalStep,
  RunOptions,
  RunStatus,
  SteadyState,
} from "./engine.js";
export { chaosConfigSchema, DEFAULT_CHAOS_STATE_DIR, DEFAULT_CHAOS_LEVEL } from "./config.js";
export type { ChaosConfig } from "./config.js";
export { experimentSchema, LEVELS } from "./experiment.js";
export type { Experiment, ExperimentInput, FaultSpec, Level, Probe, Tolerance } from "./experiment.js";
export { parseExperiment, loadExperimentFile, resolveExperiment } from "./validate.js";
export type { LoadedExperiment } from "./validate.js";
export { fromChaosToolkit, isChaosToolkit } from "./ctk.js";
export { LEVEL_POLICIES, blastRadiusViolations } from "./safety.js";
export type { LevelPolicy } from "./safety.js";
export { FileLedger, revertPending, compactLedger } from "./ledger.js";
export type { LedgerEntry, RevertReport } from "./ledger.js";
export { ChaosState, Heartbeat, spawnWatchdog } from "./state.js";
export { describeAction, runAction } from "./actions.js";
export type { Action } from "./actions.js";
export { planFault, describePlan, faketimeEnv, findFaketime, findStressNg } from "./faults.js";
export type { PlannedFault } from "./faults.js";
export { TcpFaultProxy, HttpFaultProxy, ProxyManager } from "./proxy.js";
export type { ProxySpec, ProxyView, FaultProxy } from "./proxy.js";
export { startProxyApi } from "./proxy-api.js";
export type { ProxyApi, ProxyApiOptions } from "./proxy-api.js";
export { parseToxic, TCP_TOXIC_TYPES, HTTP_TOXIC_TYPES } from "./toxics.js";
export type { Toxic } from "./toxics.js";
export { detectNetCapabilities } from "./netns.js";
export type { NetCapabilities } from "./netns.js";
export { createChaosMetrics } from "./metrics.js";
export type { ChaosMetrics } from "./metrics.js";
export { incidentListWatcher, httpWatcher } from "./watcher.js";
export type { PlatformWatcher, WatchedIncident } from "./watcher.js";
export { parseCron, nextRun } from "./cron.js";
export type { Cron } from "./cron.js";
export { runGameDay, gameDayMarkdown, loadGameDay, runSchedules } from "./gameday.js";
export type { GameDay, GameDayReport } from "./gameday.js";
export { registerChaosRoutes } from "./routes.js";
export { jsonPath } from "./jsonpath.js";
export { checkTolerance, runProbe } from "./probes.js";
export {
  ChaosActionProvider,
  runbookFaultExecutor,
  CHAOS_PROVIDER,
  CHAOS_APPLY_RUNBOOK,
  CHAOS_REVERT_RUNBOOK,
  EXECUTION_POLL_MS,
  EXECUTION_WAIT_SLACK_MS,
  MAX_ACTION_JSON_CHARS,
} from "./runbook-executor.js";
export type { RunbookExecutorPort, RunbookFaultExecutorOptions } from "./runbook-executor.js";
