import type { Attributes, Context, Link, SpanKind } from "@opentelemetry/api";
import { SamplingDecision, type Sampler, type SamplingResult } from "@opentelemetry/sdk-trace-base";
import { Gauge, type Registry } from "prom-client";

/** Tracing work allowed per request on average (microseconds): the original design's budget. */
export const DEFAULT_OVERHEAD_BUDGET_US = 100;
/** Sampling rate bounds: never blind (floor), never more than asked (ceiling). */
export const DEFAULT_SAMPLING_FLOOR = 0.001;
export const DEFAULT_SAMPLING_CEILING = 1;
/** Rate before the first measurement: low, then it climbs at most RATE_MAX_GROWTH-fold per adjustment. */
export const DEFAULT_INITIAL_SAMPLING_RATE = 0.01;
/** How often the rate is recomputed from the measurements of the window that just ended (ms). */
export const DEFAULT_ADJUST_INTERVAL_MS = 1_000;
/** Share of the budget the controller aims at: what the meter cannot see (GC, socket writes) needs room. */
export const DEFAULT_BUDGET_TARGET_SHARE = 0.7;
/** Largest rise of the rate per adjustment (factor); falls are applied at once. */
export const RATE_MAX_GROWTH = 2;
/** Weight of the newest window in the per-request cost estimates (exponential moving average). */
export const COST_EWMA_WEIGHT = 0.5;
/** Requests in a window below which the window's measurements are too few to act on. */
export const MIN_WINDOW_REQUESTS = 20;

export interface AdaptiveSamplerOptions {
  budgetUs?: number;
  floor?: number;
  ceiling?: number;
  initialRate?: number;
  adjustIntervalMs?: number;
  targetShare?: number;
  /** Where `tracing_overhead_seconds` and `tracing_sampling_rate` are registered. */
  registry?: Registry;
  /** Monotonic milliseconds; performance.now by default (tests pass their own). */
  now?: () => number;
}

export interface OverheadWindow {
  requests: number;
  sampled: number;
  /** Microseconds of tracing work measured in the window: on sampled requests, on unsampled ones, off-request (export). */
  sampledUs: number;
  unsampledUs: number;
  backgroundUs: number;
}

/**
 * An OTel Sampler that keeps the measured tracing overhead per request under a budget. The helpers in this
 * module time the tracing work around each request and the exporter's work off the request, and report it
 * here; every adjustment interval the sampler estimates the cost of a sampled and of an unsampled request
 * and picks the rate that spends `targetShare` of the budget, between floor and ceiling.
 *
 * Decisions hash the trace id (its last 8 hex digits) as TraceIdRatioBased does, so services with the same
 * rate agree. Wrap it in ParentBasedSampler to follow upstream decisions (W3C sampled flag).
 */
export class AdaptiveSampler implements Sampler {
  readonly budgetUs: number;
  readonly floor: number;
  readonly ceiling: number;
  private readonly adjustMs: number;
  private readonly targetShare: number;
  private readonly now: () => number;
  private rateValue: number;
  private threshold: number;
  private windowStart: number;
  private w: OverheadWindow = { requests: 0, sampled: 0, sampledUs: 0, unsampledUs: 0, backgroundUs: 0 };
  private costSampledUs: number | undefined;
  private costUnsampledUs = 0;
  /** Overhead per request measured over the last complete window (microseconds). */
  lastOverheadUs = 0;
  private readonly gauges: { overhead: Gauge; rate: Gauge } | undefined;

  constructor(opts: AdaptiveSamplerOptions = {}) {
    this.budgetUs = opts.budgetUs ?? DEFAULT_OVERHEAD_BUDGET_US;
    this.floor = opts.floor ?? DEFAULT_SAMPLING_FLOOR;
    this.ceiling = opts.ceiling ?? DEFAULT_SAMPLING_CEILING;
    if (!(this.floor >= 0 && this.floor <= this.ceiling && this.ceiling <= 1))
      throw new RangeError("need 0 <= floor <= ceiling <= 1");
    this.adjustMs = opts.adjustIntervalMs ?? DEFAULT_ADJUST_INTERVAL_MS;
    this.targetShare = opts.targetShare ?? DEFAULT_BUDGET_TARGET_SHARE;
    this.now = opts.now ?? (() => performance.now());
    this.rateValue = this.clamp(opts.initialRate ?? DEFAULT_INITIAL_SAMPLING_RATE);
    this.threshold = this.rateValue * 0x100000000;
    this.windowStart = this.now();
    if (opts.registry) {
      const registers = [opts.registry];
      this.gauges = {
        overhead: new Gauge({
          name: "tracing_overhead_seconds",
          help: "Measured tracing work per request over the last adjustment window",
          registers,
        }),
        rate: new Gauge({ name: "tracing_sampling_rate", help: "Share of new traces sampled", registers }),
      };
      this.gauges.rate.set(this.rateValue);
    }
  }

  get rate(): number {
    return this.rateValue;
  }

  private clamp(r: number): number {
    return Math.min(this.ceiling, Math.max(this.floor, r));
  }

  shouldSample(
    _context: Context,
    traceId: string,
    _spanName: string,
    _spanKind: SpanKind,
    _attributes: Attributes,
    _links: Link[],
  ): SamplingResult {
    const h = parseInt(traceId.slice(-8), 16);
    return {
      decision: h < this.threshold ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD,
    };
  }

  /** One request finished; `us` is the tracing work measured on it. */
  recordRequest(sampled: boolean, us: number): void {
    const w = this.w;
    w.requests++;
    if (sampled) {
      w.sampled++;
      w.sampledUs += us;
    } else w.unsampledUs += us;
    if (this.now() - this.windowStart >= this.adjustMs) this.adjust();
  }

  /** Tracing work off the request path (span export); it is charged to the sampled requests. */
  recordBackground(us: number): void {
    this.w.backgroundUs += us;
  }

  /** Ends the current window and recomputes the rate. Called by recordRequest when the interval has passed. */
  adjust(): void {
    const w = this.w;
    this.windowStart = this.now();
    this.w = { requests: 0, sampled: 0, sampledUs: 0, unsampledUs: 0, backgroundUs: 0 };
    if (w.requests < MIN_WINDOW_REQUESTS) return;
    this.lastOverheadUs = (w.sampledUs + w.unsampledUs + w.backgroundUs) / w.requests;
    this.gauges?.overhead.set(this.lastOverheadUs / 1e6);
    const ewma = (old: number | undefined, x: number) =>
      old === undefined ? x : old + COST_EWMA_WEIGHT * (x - old);
    if (w.requests > w.sampled)
      this.costUnsampledUs = ewma(this.costUnsampledUs, w.unsampledUs / (w.requests - w.sampled));
    if (w.sampled > 0)
      this.costSampledUs = ewma(this.costSampledUs, (w.sampledUs + w.backgroundUs) / w.sampled);
    const target = this.budgetUs * this.targetShare;
    let next: number;
    if (this.costSampledUs === undefined) next = this.rateValue * RATE_MAX_GROWTH;
    else {
      const extra = this.costSampledUs - this.costUnsampledUs;
      next = extra <= 0 ? this.ceiling : (target - this.costUnsampledUs) / extra;
    }
    next = this.clamp(Math.min(next, this.rateValue * RATE_MAX_GROWTH));
    this.setRate(next);
  }

  private setRate(r: number): void {
    this.rateValue = r;
    this.threshold = r * 0x100000000;
    this.gauges?.rate.set(r);
  }

  toString(): string {
    return `AdaptiveSampler{budget=${this.budgetUs}us, rate=${this.rateValue.toPrecision(3)}, floor=${this.floor}, ceiling=${this.ceiling}}`;
  }
}
