import { z } from "zod";
import { matcherSchema } from "../core/index.js";
import { DETECTOR_NAMES } from "./detector.js";
import { DEFAULT_REFRACTORY_POINTS } from "./scoring.js";

/**
 * Live series watched by a detector at most. An ensemble's state (its snapshot) reaches about half a
 * megabyte once its windows are full, so watching every scraped series (200,000 in bench:scrape) is not
 * affordable; choose them with selectors.
 */
export const DEFAULT_MAX_WATCHED_SERIES = 2000;

export const detectionConfigSchema = z
  .object({
    detector: z
      .enum(DETECTOR_NAMES)
      .default("ensemble")
      .describe("the detector each watched series gets, unless its selector names one"),
    watch: z
      .array(
        z
          .object({
            matchers: z.array(matcherSchema).min(1),
            detector: z
              .enum(DETECTOR_NAMES)
              .optional()
              .describe("the detector for the series this selector matches (default: detection.detector)"),
          })
          .strict(),
      )
      .prefault([{ matchers: ['__name__=~"trace_.*"'] }])
      .describe(
        'series selectors (the first that matches decides), e.g. {matchers: [__name__="http_request_duration_seconds_sum"], detector: seasonal}; default: the RED series derived from traces',
      ),
    max_series: z
      .number()
      .int()
      .nonnegative()
      .default(DEFAULT_MAX_WATCHED_SERIES)
      .describe("series count: detectors created at most over the life of the process"),
    quiet_after_alert: z
      .number()
      .int()
      .nonnegative()
      .default(DEFAULT_REFRACTORY_POINTS)
      .describe(
        "samples a series' detector stays quiet after it alerts, so that one event alerts once even while it grows; 0 turns it off",
      ),
  })
  .strict();

export type DetectionConfig = z.output<typeof detectionConfigSchema>;
