export { ClosedLoop, applyChanges, applyHealth, capScores } from "./closed-loop.js";
export type {
  ClosedLoopDeps,
  Diagnosis,
  LoopEvent,
  RemediationRequest,
  RemediationResult,
  ServiceChange,
  UnhealthyService,
} from "./closed-loop.js";
export {
  loopConfigSchema,
  DEFAULT_DIAGNOSE_DELAY_MS,
  DEFAULT_DIAGNOSE_LOOKBACK_MS,
  DEFAULT_CHANGE_WINDOW_MS,
  DEFAULT_CHANGE_BOOST,
  DEFAULT_ONSET_SEARCH_MS,
  DEFAULT_ONSET_WINDOW_SAMPLES,
  DEFAULT_LOOP_MAX_ATTEMPTS,
  DEFAULT_RECHECK_AFTER_MS,
  DEFAULT_FRONTIER_BOOST,
  DEFAULT_HEALTHY_FACTOR,
  DEFAULT_RANKED_METRICS,
  DEFAULT_SCORE_CAP,
} from "./config.js";
export type { LoopConfig } from "./config.js";
export {
  frameFromSeries,
  DEFAULT_FRAME_STEP_MS,
  DEFAULT_FRAME_LOOKBACK_MS,
  AGGREGATED_LABELS,
  OPERATIONAL_ROUTES,
} from "./live-frame.js";
export type { FrameOptions } from "./live-frame.js";
