import { z } from "zod";
import { durationSchema } from "../core/index.js";
import { LEVELS } from "./experiment.js";
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_STALE_MS } from "./state.js";

export const DEFAULT_CHAOS_STATE_DIR = "data/chaos";
/** Level of a fresh installation: everything but the riskiest defaults needs saying so. */
export const DEFAULT_CHAOS_LEVEL = "staging";

export const chaosConfigSchema = z
  .object({
    level: z
      .enum(LEVELS)
      .default(DEFAULT_CHAOS_LEVEL)
      .describe("environment this installation injects faults into: what it allows (see docs/chaos.md)"),
    state_dir: z
      .string()
      .default(DEFAULT_CHAOS_STATE_DIR)
      .describe("directory for the fault ledger, heartbeat, emergency-stop flag and journals"),
    heartbeat_interval: durationSchema()
      .default(DEFAULT_HEARTBEAT_INTERVAL_MS)
      .describe("duration between engine heartbeats"),
    heartbeat_stale: durationSchema()
      .default(DEFAULT_HEARTBEAT_STALE_MS)
      .describe("duration of silence after which the watchdog reverts every fault"),
    watchdog: z.boolean().default(true).describe("start the dead-man's-switch process for each run"),
  })
  .strict();
export type ChaosConfig = z.output<typeof chaosConfigSchema>;
