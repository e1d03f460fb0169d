export type {
  MetricKind,
  MetricSeries,
  MetricFrame,
  ServiceEdge,
  ServiceGraph,
  HistoryRecord,
  MetricEvidence,
  RootCauseCandidate,
  OnsetEstimate,
  RcaResult,
} from "./types.js";
export { median, iqr, mad, quantileSorted, sortedFinite, averageRanks } from "./robust-stats.js";
export {
  estimateOnset,
  windowedRankChange,
  DEFAULT_ONSET_WINDOW_SAMPLES,
  DEFAULT_ONSET_Z2_CAP,
  REFINE_WINDOW_DIVISOR,
  MIN_REFINE_WINDOW_SAMPLES,
} from "./onset.js";
export type { OnsetOptions, OnsetProfile } from "./onset.js";
export {
  scoreMetric,
  DEFAULT_MOVED_SCORE,
  DEFAULT_RELATIVE_SCALE_FLOOR,
  DEFAULT_PERSISTENCE_SAMPLES,
} from "./scoring.js";
export type { ScoringOptions, MetricScore } from "./scoring.js";
export { graphAdjustments, DEFAULT_CALLER_DISCOUNT, DEFAULT_GRAPH_MAX_DEPTH } from "./graph.js";
export type { GraphOptions, GraphAdjustment } from "./graph.js";
export {
  incidentSignature,
  historyPrior,
  jaccard,
  DEFAULT_SIGNATURE_SIZE,
  DEFAULT_MIN_SIMILARITY,
  DEFAULT_HISTORY_PSEUDO_COUNT,
  DEFAULT_HISTORY_WEIGHT,
} from "./history.js";
export type { HistoryOptions, HistoryPrior } from "./history.js";
export { rankRootCauses, DEFAULT_MAX_CANDIDATES, DEFAULT_MAX_EVIDENCE } from "./rank.js";
export type { RankOptions } from "./rank.js";
export {
  explainRanking,
  describeEvidence,
  DEFAULT_EXPLAIN_CANDIDATES,
  DEFAULT_EXPLAIN_TIMELINE_METRICS,
} from "./explain.js";
export { parseColumnName, owningService, inferKind, DEFAULT_COMPONENT_SUFFIXES } from "./metric-name.js";
export type { ParsedColumn } from "./metric-name.js";
export { parseNumericCsv, concatTables, tableToFrame } from "./csv-frame.js";
export type { CsvTable } from "./csv-frame.js";
export { serviceGraphSchema, historyRecordSchema } from "./schemas.js";
