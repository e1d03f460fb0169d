export {
  createDetector,
  restoreDetector,
  isDetectorName,
  DETECTOR_NAMES,
  DETECTOR_DESCRIPTIONS,
  DEFAULT_LABEL_THRESHOLD,
  DEFAULT_LABEL_THRESHOLDS,
  ENSEMBLE_DEFAULTS,
  VOTE_DEFAULTS,
  MEMBER_NAMES,
} from "./detector.js";
export type { DetectorOptions, EnsembleOptions, MemberName } from "./detector.js";
export type { DetectionResult, Detector, DetectorName, DetectorSnapshot } from "./types.js";
export { SeasonalForecaster, SEASONAL_DEFAULTS } from "./seasonal-forecaster.js";
export type { Forecast, SeasonalOptions } from "./seasonal-forecaster.js";
export { predictCrossing, forecastThresholdCrossing, DEFAULT_CROSSING_HORIZON_MS } from "./forecast.js";
export type { CrossingForecast, CrossingOptions } from "./forecast.js";
export { parseSeriesCsv, parseTimestamp } from "./csv-series.js";
export type { ParsedSeries } from "./csv-series.js";
export {
  scoreNabAllProfiles,
  scoreNabCorpus,
  prepareNabFile,
  NAB_PROFILES,
  NAB_PROFILE_NAMES,
} from "./nab-scorer.js";
export type { NabPreparedFile, NabProfileName, NabScores, NabWindow } from "./nab-scorer.js";
export { detectionConfigSchema, DEFAULT_MAX_WATCHED_SERIES } from "./detection-config.js";
export type { DetectionConfig } from "./detection-config.js";
