/**
 * Entry of one shop service process. The supervisor (shop.ts) spawns it with an IPC channel and these
 * environment variables; the process reports its port over IPC and exits when the channel closes, so
 * a supervisor that dies, however it dies, leaves no orphans.
 */
import { z } from "zod";
import { shopServiceSchema } from "./config.js";
import { SERVICE_ENV } from "./service-env.js";
import { startService, upstreamsSchema, type ServiceFactory } from "./service-runtime.js";
import { SERVICE_FACTORIES } from "./services.js";

/** Longest a graceful stop may take before the process exits anyway (ms). */
const SHUTDOWN_GRACE_MS = 3_000;

const envSchema = z.object({
  [SERVICE_ENV.service]: shopServiceSchema,
  [SERVICE_ENV.instance]: z.string().min(1),
  [SERVICE_ENV.port]: z.coerce.number().int().min(0).max(65535).default(0),
  [SERVICE_ENV.config]: z.string().min(1),
  [SERVICE_ENV.upstreams]: z
    .string()
    .default("{}")
    .transform((s, ctx) => {
      try {
        return upstreamsSchema.parse(JSON.parse(s));
      } catch {
        ctx.addIssue({ code: "custom", message: "expected JSON {service: [url, ...]}" });
        return z.NEVER;
      }
    }),
  [SERVICE_ENV.otlpUrl]: z.string().optional(),
  [SERVICE_ENV.traceExportDelayMs]: z.coerce.number().int().positive().optional(),
  [SERVICE_ENV.dataDir]: z.string().min(1),
});

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    process.stderr.write(`shop service: bad environment: ${parsed.error.message}\n`);
    process.exit(64);
  }
  const env = parsed.data;
  const service = env[SERVICE_ENV.service];
  const otlp = env[SERVICE_ENV.otlpUrl];
  const delay = env[SERVICE_ENV.traceExportDelayMs];
  const running = await startService(
    {
      service,
      instance: env[SERVICE_ENV.instance],
      port: env[SERVICE_ENV.port],
      configPath: env[SERVICE_ENV.config],
      upstreams: env[SERVICE_ENV.upstreams],
      dataDir: env[SERVICE_ENV.dataDir],
      ...(otlp ? { otlpUrl: otlp } : {}),
      ...(delay ? { traceExportDelayMs: delay } : {}),
    },
    SERVICE_FACTORIES[service] as ServiceFactory,
  );
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
    void running.close().finally(() => {
      process.stderr.write(`shop service ${env[SERVICE_ENV.instance]} stopped (${why})\n`);
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  if (process.send) {
    process.on("disconnect", () => stop("supervisor gone"));
    process.send({ type: "listening", port: running.port, pid: process.pid });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`shop service failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
