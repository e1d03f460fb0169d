export {
  AdaptiveSampler,
  DEFAULT_OVERHEAD_BUDGET_US,
  DEFAULT_SAMPLING_FLOOR,
  DEFAULT_SAMPLING_CEILING,
  DEFAULT_INITIAL_SAMPLING_RATE,
  DEFAULT_ADJUST_INTERVAL_MS,
  DEFAULT_BUDGET_TARGET_SHARE,
  RATE_MAX_GROWTH,
  COST_EWMA_WEIGHT,
  MIN_WINDOW_REQUESTS,
} from "./adaptive-sampler.js";
export type { AdaptiveSamplerOptions, OverheadWindow } from "./adaptive-sampler.js";
export { MeteredExporter } from "./metered.js";
export { createTracing } from "./tracing.js";
export type { Tracing, TracingOptions } from "./tracing.js";
