import { z } from "zod";
import { durationSchema, matcherSchema } from "../core/index.js";
import { SEVERITIES } from "./model.js";

/** Alerts whose group-key labels match join one incident while it is open and active within this window. */
export const DEFAULT_GROUP_WINDOW_MS = 5 * 60_000;
/** A resolved incident whose alert fires again within this window is reopened instead of opening a new one. */
export const DEFAULT_REOPEN_WINDOW_MS = 30 * 60_000;
/** An alert that flips firing<->resolved this many times within the flap window is flapping. */
export const DEFAULT_FLAP_THRESHOLD = 4;
export const DEFAULT_FLAP_WINDOW_MS = 60 * 60_000;

const severityEnum = z.enum(SEVERITIES);

export const incidentsConfigSchema = z
  .object({
    group_by: z
      .array(z.string().min(1))
      .default(["service"])
      .describe("alert labels whose values form the incident group key"),
    group_window: durationSchema()
      .default(DEFAULT_GROUP_WINDOW_MS)
      .describe("duration; a new alert joins an open incident of its group active within this window"),
    auto_resolve: z.boolean().default(true).describe("resolve an incident when all its alerts have resolved"),
    reopen_window: durationSchema()
      .default(DEFAULT_REOPEN_WINDOW_MS)
      .describe("duration; re-fire within this window after resolution reopens the incident"),
    flap: z
      .object({
        threshold: z.number().int().min(2).default(DEFAULT_FLAP_THRESHOLD).describe("count of state flips"),
        window: durationSchema().default(DEFAULT_FLAP_WINDOW_MS).describe("duration"),
      })
      .strict()
      .default({ threshold: DEFAULT_FLAP_THRESHOLD, window: DEFAULT_FLAP_WINDOW_MS }),
    severity: z
      .object({
        label: z.string().default("severity").describe("alert label read for the severity"),
        map: z
          .record(z.string(), severityEnum)
          .default({ critical: "P1", page: "P1", high: "P2", error: "P2", warning: "P3", info: "P3" })
          .describe("label value -> severity; values P0..P3 are also taken as they are"),
        default: severityEnum.default("P3"),
        rules: z
          .array(z.object({ matchers: z.array(matcherSchema).min(1), severity: severityEnum }).strict())
          .default([])
          .describe(
            'first matching rule wins, before the label map; e.g. {matchers: ["service=\"payments\"", "severity=\"critical\""], severity: P0}',
          ),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type IncidentsConfig = z.output<typeof incidentsConfigSchema>;
