export type {
  HealthState,
  ProbeSpec,
  ProbeConfig,
  HealthTarget,
  ProbeFailure,
  Transition,
  ProbeOutcome,
  Severity,
} from "./types.js";
export {
  healingConfigSchema,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_BACKOFF_RESET_AFTER_MS,
  DEFAULT_BREAKER_FAILURES,
  DEFAULT_BREAKER_WINDOW_MS,
  DEFAULT_BREAKER_COOLDOWN_MS,
  DEFAULT_MAX_UNHEALTHY_SHARE,
  DEFAULT_LIMIT_MIN_TARGETS,
  DEFAULT_FAILED_AFTER_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_PROBE_PERIOD_MS,
  DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_FAILURE_THRESHOLD,
  DEFAULT_SUCCESS_THRESHOLD,
  DEFAULT_INITIAL_DELAY_MS,
} from "./config.js";
export type { HealingConfig, HealingPolicy } from "./config.js";
export { Backoff } from "./backoff.js";
export type { BackoffOptions } from "./backoff.js";
export { CircuitBreaker } from "./circuit-breaker.js";
export type { BreakerState, CircuitBreakerOptions } from "./circuit-breaker.js";
export { UnhealthyLimit } from "./unhealthy-limit.js";
export type { UnhealthyLimitOptions } from "./unhealthy-limit.js";
export { TargetHealth } from "./target-health.js";
export type { StateChange } from "./target-health.js";
export { runProbe } from "./probes.js";
export { HealthMonitor, MONITOR_TICK_MS } from "./health-monitor.js";
export type { HealthMonitorDeps } from "./health-monitor.js";
export { HealingController } from "./controller.js";
export type { HealingStart, RemediateResult, Forecast, HealingControllerDeps } from "./controller.js";
export { createHealingMetrics } from "./metrics.js";
export type { HealingMetrics } from "./metrics.js";
export {
  transitionAlerts,
  HEALTH_FAILING_ALERTNAME,
  HEALTH_DEGRADED_ALERTNAME,
  HEALING_SOURCE,
} from "./health-alerts.js";
export { targetsFromConfig } from "./config-targets.js";
