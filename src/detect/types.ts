import type { Result } from "../core/index.js";

export type DetectorName =
  | "robust"
  | "seasonal"
  | "iforest"
  | "lstm"
  | "shift"
  | "context"
  | "vote"
  | "ensemble"
  | "coarse"
  | "stuck"
  | "resonance";

/** What a detector says about one sample. */
export interface DetectionResult {
  /** Sample time, epoch ms (from the sample, never the wall clock). */
  t: number;
  value: number;
  /** Anomaly score in [0, 1]; never NaN. */
  score: number;
  /** score >= the detector's label threshold. */
  anomaly: boolean;
  /** What the model expected here (a forecast or baseline), null while it is still learning. */
  expected: number | null;
  /** Names of the (sub)detectors whose own score crossed their label threshold at this sample. */
  fired: string[];
  /** One line for humans: who fired, expected versus observed. */
  explanation: string;
  /** Set when the sample was not scored (out of order, not finite); the state is then unchanged. */
  ignored?: string;
}

/** JSON-serialisable state of a detector; `restoreDetector` turns it back into a live detector. */
export interface DetectorSnapshot {
  kind: "novacron.detector";
  version: 1;
  name: DetectorName;
  options: Record<string, unknown>;
  state: unknown;
}

/** The seam metric ingest feeds series through: one instance per series. */
export interface Detector {
  readonly name: DetectorName;
  /** Scores (t, v) using only earlier samples, then learns from it. t in epoch ms. */
  update(t: number, v: number): DetectionResult;
  snapshot(): DetectorSnapshot;
  /** Replaces this detector's state with a snapshot of the same detector name. */
  restore(snapshot: unknown): Result<void>;
}

/** Raw output of one model for one sample, before calibration into a score. */
export interface ComponentOutput {
  /** Surprise on a -ln(p) scale (0 = typical); NaN while the model is still warming up. */
  surprise: number;
  expected: number | null;
}

/** A model inside a detector. Internal: detectors wrap components with scoring and suppression. */
export interface Component {
  readonly name: string;
  /**
   * The surprise is already a score in [0, 1] with the component's own calibration (resonance adapts its
   * vigilance to the series): the detector uses it as the score, without the excess-over-reference step.
   */
  readonly calibrated?: boolean;
  step(t: number, v: number): ComponentOutput;
  snapshot(): unknown;
  /** Throws on a malformed state; the caller turns that into a Result. */
  restore(state: unknown): void;
}
