export {
  FAULT_KINDS,
  parseScenarios,
  loadScenarioFile,
  DEFAULT_SCENARIO_DURATION_MS,
  MAX_SCENARIO_DURATION_MS,
  DEFAULT_LATENCY_MS,
  DEFAULT_ERROR_RATE,
  DEFAULT_CPU_SHARE,
  DEFAULT_LEAK_MB_PER_S,
  DEFAULT_DISK_FILL_MB,
  DEFAULT_CLOCK_SKEW_S,
} from "./scenario.js";
export type { Scenario, FaultKind } from "./scenario.js";
export { injectFault } from "./faults.js";
export type { InjectedFault } from "./faults.js";
export {
  runGameDay,
  GameDayAborted,
  DEFAULT_SETTLE_MS,
  DEFAULT_STEADY_TIMEOUT_MS,
  REVERT_HEALTHY_TIMEOUT_MS,
} from "./runner.js";
export type { GameDayPlatform, GameDayProgress, GameDayOptions } from "./runner.js";
export { summarize, reportMarkdown } from "./report.js";
export type { GameDayReport, GameDaySummary, ScenarioResult } from "./report.js";
export { startDemo, demoConfig, demoRunbookDir, builtinScenarioFile, DEMO_DEFAULT_PORT } from "./demo.js";
export type { Demo, DemoOptions } from "./demo.js";
export {
  instanceProbes,
  windowRate,
  METRIC_PROBE_WINDOW_MS,
  MAX_ERROR_RATIO,
  MAX_UPSTREAM_ERROR_RATIO,
  MAX_MEAN_LATENCY_S,
  MAX_CPU_CORES,
  MAX_RSS_BYTES,
} from "./probes.js";
