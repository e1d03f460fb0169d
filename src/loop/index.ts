export { ClosedLoop, applyChanges } from "./closed-loop.js";
export type {
  ClosedLoopDeps,
  Diagnosis,
  LoopEvent,
  RemediationRequest,
  RemediationResult,
  ServiceChange,
} from "./closed-loop.js";
export {
  loopConfigSchema,
  DEFAULT_DIAGNOSE_DELAY_MS,
  DEFAULT_DIAGNOSE_LOOKBACK_MS,
  DEFAULT_CHANGE_WINDOW_MS,
  DEFAULT_CHANGE_BOOST,
  DEFAULT_ONSET_SEARCH_MS,
  DEFAULT_ONSET_WINDOW_SAMPLES,
} from "./config.js";
export type { LoopConfig } from "./config.js";
export {
  frameFromSeries,
  DEFAULT_FRAME_STEP_MS,
  DEFAULT_FRAME_LOOKBACK_MS,
  AGGREGATED_LABELS,
} from "./live-frame.js";
export type { FrameOptions } from "./live-frame.js";
