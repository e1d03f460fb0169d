import { fingerprint, type Clock, type Labels, type Logger } from "../core/index.js";
import type { Alert } from "../incidents/index.js";
import { LinearTrendForecaster, predictCrossing, type Forecaster } from "./forecast.js";
import type { Series } from "./series-store.js";
import {
  DEFAULT_ANOMALY_RESOLVE_AFTER_SAMPLES,
  DEFAULT_PREDICTIVE_HORIZON_MS,
  DEFAULT_PREDICTIVE_MIN_SAMPLES,
  type PredictiveRule,
} from "./telemetry-config.js";

/**
 * The seam to the detect module: one streaming detector per series. The detect module's ensemble is
 * passed in as a factory; this module only feeds samples and turns verdicts into alerts.
 */
export interface SeriesDetector {
  update(t: number, v: number): { score: number; anomaly: boolean; expected?: number };
}
/** Builds the detector of a series; undefined leaves the series unwatched. */
export type SeriesDetectorFactory = (labels: Labels) => SeriesDetector | undefined;

export const ANOMALY_ALERTNAME = "AnomalyDetected";
export const PREDICTED_ALERTNAME = "PredictedThresholdBreach";
export const ANOMALY_SOURCE = "anomaly";
export const PREDICTION_SOURCE = "prediction";

export interface SeriesAnalyzerOptions {
  clock: Clock;
  logger: Logger;
  detectorFactory?: SeriesDetectorFactory;
  forecaster?: Forecaster;
  rules?: readonly PredictiveRule[];
  horizonMs?: number;
  minSamples?: number;
  resolveAfterSamples?: number;
  /** Receives alert changes (firing or resolved) in batches; app.ts passes IncidentService.ingest. */
  emit?: (alerts: Alert[]) => Promise<unknown> | void;
}

interface AlertState {
  firing: Alert | undefined;
  calm: number;
}

interface SeriesState {
  detector: SeriesDetector | undefined;
  anomaly: AlertState;
  rules: { rule: PredictiveRule; state: AlertState }[];
}

/** Series labels as alert labels: `__name__` becomes `metric`, and `service` is always present. */
export function alertLabelsOf(series: Labels): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(series)) out[k === "__name__" ? "metric" : k] = v;
  out["service"] = series["service"] || series["job"] || "unknown";
  return out;
}

/**
 * Runs every new sample through its series' detector and the predictive rules that match the series, and
 * turns changes of verdict into normalised alerts: firing once when a series turns anomalous (or a breach
 * becomes predicted), resolved after `resolveAfterSamples` calm samples or when the series ends.
 */
export class SeriesAnalyzer {
  private readonly forecaster: Forecaster;
  private readonly rules: readonly PredictiveRule[];
  private readonly horizonMs: number;
  private readonly resolveAfter: number;
  private pending: Alert[] = [];
  anomaliesDetected = 0;
  breachesPredicted = 0;

  constructor(private readonly opts: SeriesAnalyzerOptions) {
    const minSamples = opts.minSamples ?? DEFAULT_PREDICTIVE_MIN_SAMPLES;
    this.forecaster = opts.forecaster ?? new LinearTrendForecaster(minSamples);
    this.rules = opts.rules ?? [];
    this.horizonMs = opts.horizonMs ?? DEFAULT_PREDICTIVE_HORIZON_MS;
    this.resolveAfter = opts.resolveAfterSamples ?? DEFAULT_ANOMALY_RESOLVE_AFTER_SAMPLES;
  }

  private stateOf(s: Series): SeriesState | undefined {
    let st = s.state as SeriesState | undefined | null;
    if (st === null) return undefined;
    if (!st) {
      const matching = this.rules.filter((r) => Object.entries(r.match).every(([k, v]) => s.labels[k] === v));
      st = {
        detector: this.opts.detectorFactory?.(s.labels),
        anomaly: { firing: undefined, calm: 0 },
        rules: matching.map((rule) => ({ rule, state: { firing: undefined, calm: 0 } })),
      };
      // Series nothing watches remember that with null, and cost nothing more.
      if (!st.detector && !st.rules.length) {
        s.state = null;
        return undefined;
      }
      s.state = st;
    }
    return st;
  }

  /** Called after a sample was appended to `s`. */
  observe(s: Series, t: number, v: number): void {
    const st = this.stateOf(s);
    if (!st) return;
    if (st.detector && Number.isFinite(v)) {
      const r = st.detector.update(t, v);
      if (r.anomaly) {
        st.anomaly.calm = 0;
        if (!st.anomaly.firing) {
          this.anomaliesDetected++;
          const labels: Labels = { ...alertLabelsOf(s.labels), alertname: ANOMALY_ALERTNAME };
          const annotations: Record<string, string> = {
            summary: `${s.labels["__name__"] ?? "series"} of ${labels["service"]} is anomalous`,
            score: String(r.score),
            value: String(v),
          };
          if (r.expected !== undefined) annotations["expected"] = String(r.expected);
          st.anomaly.firing = this.fire(ANOMALY_SOURCE, labels, annotations, t);
        }
      } else this.calm(st.anomaly, t);
    }
    for (const { rule, state } of st.rules) this.predict(s, rule, state, t, v);
  }

  private predict(s: Series, rule: PredictiveRule, state: AlertState, t: number, v: number): void {
    const { times, values } = s.window();
    const at = predictCrossing(this.forecaster, times, values, rule, t, rule.horizon ?? this.horizonMs);
    if (at === undefined) return this.calm(state, t);
    state.calm = 0;
    if (state.firing) return;
    this.breachesPredicted++;
    const labels: Labels = {
      ...alertLabelsOf(s.labels),
      alertname: PREDICTED_ALERTNAME,
      rule: rule.name,
      severity: rule.severity,
    };
    state.firing = this.fire(
      PREDICTION_SOURCE,
      labels,
      {
        summary: `${s.labels["__name__"] ?? "series"} of ${labels["service"]} is forecast to cross ${rule.threshold} (${rule.direction}) at ${new Date(at).toISOString()}`,
        predicted_at: new Date(at).toISOString(),
        threshold: String(rule.threshold),
        value: String(v),
      },
      t,
    );
  }

  private fire(source: string, labels: Labels, annotations: Record<string, string>, t: number): Alert {
    const a: Alert = {
      fingerprint: fingerprint(labels),
      source,
      labels,
      annotations,
      status: "firing",
      startsAt: t,
      endsAt: null,
      generatorURL: null,
    };
    this.pending.push(a);
    return a;
  }

  private calm(state: AlertState, t: number, now = false): void {
    if (!state.firing) return;
    if (!now && ++state.calm < this.resolveAfter) return;
    this.pending.push({ ...state.firing, status: "resolved", endsAt: t });
    state.firing = undefined;
    state.calm = 0;
  }

  /** A series ended: its open alerts resolve. */
  ended(s: Series): void {
    const st = s.state as SeriesState | undefined | null;
    if (!st) return;
    const t = Number.isFinite(s.lastT) ? s.lastT : this.opts.clock.now();
    this.calm(st.anomaly, t, true);
    for (const r of st.rules) this.calm(r.state, t, true);
  }

  /** Hands the alert changes gathered since the last flush to `emit`; returns them. */
  flush(): Alert[] {
    const out = this.pending;
    if (!out.length) return out;
    this.pending = [];
    if (this.opts.emit) {
      try {
        const p = this.opts.emit(out);
        if (p)
          p.catch((e: unknown) => this.opts.logger.error({ err: e }, "emitting telemetry alerts failed"));
      } catch (e) {
        this.opts.logger.error({ err: e }, "emitting telemetry alerts failed");
      }
    }
    return out;
  }
}
