import { z } from "zod";
import { durationSchema } from "../core/index.js";
import { detectionConfigSchema } from "../detect/index.js";
import { incidentsConfigSchema } from "../incidents/index.js";
import { notifyConfigSchema } from "../notify/index.js";
import { telemetryConfigSchema } from "../ingest/index.js";
import { chaosConfigSchema } from "../chaos/index.js";
import { runbooksConfigSchema } from "../runbooks/index.js";
import { loopConfigSchema } from "../loop/index.js";
import { healingConfigSchema } from "../healing/index.js";

/** Largest request body accepted by default: a 100-alert Alertmanager batch is ~100 KiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** How long shutdown waits for in-flight requests and work before it gives up. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/** Largest clock difference accepted on HMAC-signed receiver requests (replay window). */
export const DEFAULT_HMAC_MAX_SKEW_MS = 5 * 60_000;
export const DEFAULT_PORT = 8480;

export const serverConfigSchema = z
  .object({
    host: z.string().default("127.0.0.1").describe("address to listen on"),
    port: z.number().int().min(0).max(65535).default(DEFAULT_PORT).describe("TCP port; 0 picks a free one"),
    body_limit_bytes: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_BODY_LIMIT_BYTES)
      .describe("bytes; larger request bodies get 413"),
    shutdown_grace: durationSchema()
      .default(DEFAULT_SHUTDOWN_GRACE_MS)
      .describe("duration to drain in-flight work on SIGTERM"),
    public_url: z
      .url()
      .optional()
      .describe("URL where people reach this server; used in links in notifications"),
  })
  .strict();

export const configSchema = z
  .object({
    server: serverConfigSchema.prefault({}),
    log: z
      .object({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      })
      .strict()
      .prefault({}),
    storage: z
      .object({
        url: z
          .string()
          .refine((u) => /^(sqlite:|postgres(ql)?:\/\/)/.test(u), {
            message: 'must start with "sqlite:" or "postgres://"',
          })
          .default("sqlite:data/novasre.db")
          .describe('"sqlite:PATH" (default, a file in WAL mode), "sqlite::memory:" or a "postgres://" URL'),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        receivers: z
          .object({
            require_auth: z
              .boolean()
              .default(true)
              .describe("receivers demand a bearer token or an HMAC signature"),
            hmac_secret_env: z
              .string()
              .optional()
              .describe("name of the environment variable holding the HMAC-SHA256 secret"),
            hmac_max_skew: durationSchema()
              .default(DEFAULT_HMAC_MAX_SKEW_MS)
              .describe("duration; signed requests older than this are refused"),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    incidents: incidentsConfigSchema.prefault({}),
    detection: detectionConfigSchema.prefault({}),
    notify: notifyConfigSchema.prefault({}),
    telemetry: telemetryConfigSchema.prefault({}),
    chaos: chaosConfigSchema.prefault({}),
    runbooks: runbooksConfigSchema.prefault({}),
    loop: loopConfigSchema.prefault({}),
    healing: healingConfigSchema.prefault({}),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
