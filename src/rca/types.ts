/** What a metric measures; drives the `kind` of a candidate ("carts is CPU-bound"). */
export type MetricKind = "cpu" | "mem" | "latency" | "errors" | "traffic" | "io" | "other";

/** One metric over the common time axis of a frame. NaN marks a missing sample. */
export interface MetricSeries {
  /** Unique name within the frame, e.g. `carts-db_cpu`. */
  name: string;
  /** Service the metric is attributed to (`carts` for `carts-db_cpu`). */
  service: string;
  kind: MetricKind;
  values: ArrayLike<number>;
}

/** Metrics sampled on one time axis (unix seconds, ascending). */
export interface MetricFrame {
  times: ArrayLike<number>;
  series: MetricSeries[];
}

/** A call edge caller -> callee; `rate` (calls per second) weighs how much of the caller depends on it. */
export interface ServiceEdge {
  caller: string;
  callee: string;
  rate?: number;
}

export interface ServiceGraph {
  edges: ServiceEdge[];
}

/** A past incident: what moved (see `incidentSignature`) and the cause a human confirmed. */
export interface HistoryRecord {
  signature: string[];
  confirmedService: string;
}

export interface MetricEvidence {
  metric: string;
  service: string;
  kind: MetricKind;
  /** Largest |x - median| / scale after the onset, in units of the normal period's spread. */
  score: number;
  direction: "up" | "down";
  /** Normal-period median and IQR; `scale` is the IQR or its fallback when the IQR is zero. */
  baseline: { median: number; iqr: number; scale: number };
  peak: { time: number; value: number };
  /** When this metric left its normal band (start of its first excursion after the incident onset). */
  onsetTime: number | undefined;
  /** Whether the metric counts as moved (score at or above the moved threshold). */
  moved: boolean;
}

export interface RootCauseCandidate {
  service: string;
  /** The metric that moved most for this service. */
  metric?: string;
  kind?: MetricKind;
  /** Ranking score after graph and history adjustments. */
  score: number;
  /** Probability-like share in [0, 1]; sums to at most 1 over the candidates. */
  confidence: number;
  /** This service's metrics that moved, strongest first (at least its best metric). */
  evidence: MetricEvidence[];
  /** Score before adjustments and the factors applied, for the explanation. */
  adjustments: { baseScore: number; graphFactor: number; historyFactor: number; notes: string[] };
}

export interface OnsetEstimate {
  /** Index into the frame's time axis of the first anomalous sample. */
  index: number;
  time: number;
  /** True when estimated here, false when given by the caller. */
  estimated: boolean;
  /** Peak of the aggregated change statistic relative to its median over the series (>= 0). */
  strength: number;
}

export interface RcaResult {
  onset: OnsetEstimate;
  candidates: RootCauseCandidate[];
  /** Moved metrics of all services in the order they left their normal band. */
  timeline: MetricEvidence[];
  /** Signature of this incident; store it with the confirmed cause to feed the history prior later. */
  signature: string[];
}
