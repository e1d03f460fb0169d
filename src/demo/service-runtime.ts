import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { createLogger, type ErrorDetail, type Logger } from "../core/index.js";
import {
  parseServiceConfig,
  semanticProblems,
  serviceConfigSchemas,
  SHOP_TOPOLOGY,
  type ServiceConfigs,
  type ShopService,
  faultsSchema,
} from "./config.js";
import { json, problem, ServiceRouter, UpstreamClient } from "./http-kit.js";
import { ProcessFaults } from "./process-faults.js";
import {
  createServiceMetrics,
  createServiceTracing,
  type ServiceMetrics,
  type TracingOptions,
} from "./telemetry.js";

export interface ServiceSpec {
  service: ShopService;
  /** e.g. "catalog-1"; unique within the shop. */
  instance: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  configPath: string;
  upstreams: Record<string, string[]>;
  otlpUrl?: string;
  traceExportDelayMs?: number;
  /** Where the store keeps its SQLite file. */
  dataDir: string;
  logger?: Logger;
  random?: () => number;
  /** Seam for src/tracing (sampler) and tests (span processors). */
  tracing?: Pick<TracingOptions, "sampler" | "spanProcessors">;
}

/** What a service implementation gets: its validated config and the shared plumbing. */
export interface ServiceRuntime<S extends ShopService = ShopService> {
  service: S;
  instance: string;
  config: ServiceConfigs[S];
  upstream: UpstreamClient;
  metrics: ServiceMetrics;
  logger: Logger;
  random: () => number;
  dataDir: string;
}

export interface ServiceImpl {
  routes(router: ServiceRouter): void;
  /** A reason the service cannot do its work (e.g. database closed); undefined when it can. */
  unavailable?(): string | undefined;
  /**
   * A reason /readyz reports while requests still reach the handlers, which fail the part the problem
   * touches (a full disk: reads work, writes answer 507). Undefined when there is none.
   */
  degraded?(): string | undefined;
  close?(): Promise<void> | void;
}

export type ServiceFactory<S extends ShopService = ShopService> = (rt: ServiceRuntime<S>) => ServiceImpl;

export interface RunningService {
  port: number;
  url: string;
  /** Stops taking requests, lets the ones in flight end, flushes spans. */
  close(): Promise<void>;
}

export const upstreamsSchema = z.record(z.string(), z.array(z.url()));

function loadConfigFile(
  service: ShopService,
  path: string,
): { config: ServiceConfigs[ShopService]; problems: ErrorDetail[] } {
  const defaults = serviceConfigSchemas[service].parse({});
  let raw: unknown = {};
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
    if (!missing)
      return {
        config: defaults,
        problems: [{ path: "", message: `cannot read ${path}: ${(e as Error).message}` }],
      };
  }
  const r = parseServiceConfig(service, raw);
  return r.valid ? { config: r.config, problems: [] } : { config: defaults, problems: r.problems };
}

const describe = (ps: ErrorDetail[]): string =>
  ps.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join("; ");

/**
 * Starts one shop service in this process. A config that fails validation does not stop the process:
 * it stays up, says why on /readyz and answers work with 503, which is what a supervisor or the
 * platform can observe (a crash loop would hide the reason in a log).
 */
export async function startService(spec: ServiceSpec, factory: ServiceFactory): Promise<RunningService> {
  const loaded = loadConfigFile(spec.service, spec.configPath);
  const config = loaded.config;
  const logger = (spec.logger ?? createLogger(config.log_level)).child({
    svc: spec.service,
    instance: spec.instance,
  });
  if (loaded.problems.length)
    logger.error({ config: spec.configPath, problems: loaded.problems }, "invalid config: not ready");
  const semantic = loaded.problems.length ? [] : semanticProblems(spec.service, config);
  if (semantic.length)
    logger.error({ config: spec.configPath, problems: semantic }, "config breaks the service: not ready");

  const metrics = createServiceMetrics(spec.service);
  const tracing = createServiceTracing({
    service: spec.service,
    instance: spec.instance,
    ...(spec.otlpUrl ? { otlpUrl: spec.otlpUrl } : {}),
    ...(spec.traceExportDelayMs !== undefined ? { exportDelayMs: spec.traceExportDelayMs } : {}),
    ...spec.tracing,
  });
  const upstream = new UpstreamClient({
    metrics,
    tracing,
    timeoutMs: () => config.upstream_timeout_ms,
    retries: () => config.retries,
  });
  upstream.setUpstreams(spec.upstreams);
  const random = spec.random ?? Math.random;
  const needs = SHOP_TOPOLOGY[spec.service];

  const impl: ServiceImpl = factory({
    service: spec.service,
    instance: spec.instance,
    config,
    upstream,
    metrics,
    logger,
    random,
    dataDir: spec.dataDir,
  });

  // Live fault knobs: start from the config, changed at run time through /admin/faults (chaos), and
  // back to the config's values on the next restart.
  // The resource faults (CPU, memory) have no config key: a restart always clears them.
  const faults = {
    extra_latency_ms: config.extra_latency_ms,
    error_rate: config.error_rate,
    cpu_hog: 0,
    leak_mb_per_s: 0,
  };
  const processFaults = new ProcessFaults();

  const gateReason = (): string | undefined => {
    if (loaded.problems.length) return `invalid config: ${describe(loaded.problems)}`;
    const missing = needs.filter((n) => !upstream.has(n));
    if (missing.length) return `no upstream instances for ${missing.join(", ")}`;
    return impl.unavailable?.();
  };
  const readyReason = (): string | undefined =>
    gateReason() ??
    (semantic.length ? `config breaks the service: ${describe(semantic)}` : undefined) ??
    impl.degraded?.();

  const router = new ServiceRouter({
    metrics,
    tracing,
    logger,
    gate: {
      notReadyReason: gateReason,
      extraLatencyMs: () => faults.extra_latency_ms,
      errorRate: () => faults.error_rate,
      random,
    },
  });
  router
    .on(
      "GET",
      "/healthz",
      // `now` lets a probe measure this process's clock skew against its own.
      () =>
        json(200, {
          status: "ok",
          service: spec.service,
          instance: spec.instance,
          pid: process.pid,
          now: Date.now(),
        }),
      { operational: true },
    )
    .on(
      "GET",
      "/readyz",
      () => {
        const reason = readyReason();
        return reason ? json(503, { status: "not ready", reason }) : json(200, { status: "ready" });
      },
      { operational: true },
    )
    .on(
      "GET",
      "/metrics",
      async () => ({
        status: 200,
        text: await metrics.registry.metrics(),
        contentType: metrics.registry.contentType,
      }),
      { operational: true },
    )
    .on("GET", "/admin/config", () => json(200, { config, problems: [...loaded.problems, ...semantic] }), {
      operational: true,
    })
    .on("GET", "/admin/faults", () => json(200, { faults, leaked_mb: processFaults.leakedMb() }), {
      operational: true,
    })
    .on(
      "PUT",
      "/admin/faults",
      (req) => {
        const r = faultsSchema.safeParse(req.body);
        if (!r.success)
          return problem(
            400,
            "expected {extra_latency_ms?: 0..600000, error_rate?: 0..1, cpu_hog?: 0..1, leak_mb_per_s?: >= 0}",
            { problems: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) },
          );
        Object.assign(faults, r.data);
        processFaults.set(faults);
        logger.warn({ faults }, "faults changed");
        return json(200, { faults });
      },
      { operational: true },
    )
    .on("GET", "/admin/upstreams", () => json(200, { upstreams: upstream.list() }), { operational: true })
    .on(
      "PUT",
      "/admin/upstreams",
      (req) => {
        const r = z.object({ upstreams: upstreamsSchema }).safeParse(req.body);
        if (!r.success) return problem(400, "expected {upstreams: {service: [url, ...]}}");
        upstream.setUpstreams(r.data.upstreams);
        logger.info({ upstreams: r.data.upstreams }, "upstreams updated");
        return json(200, { upstreams: upstream.list() });
      },
      { operational: true },
    );

  impl.routes(router);

  const server: Server = createServer(router.listener);
  // Keep-alive connections from callers must not hold a restart hostage.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(spec.port, spec.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${spec.host ?? "127.0.0.1"}:${port}`;
  logger.info({ port, url, ready: readyReason() ?? "yes" }, "listening");
  return {
    port,
    url,
    close: async () => {
      processFaults.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await impl.close?.();
      await tracing.shutdown().catch((e: unknown) => logger.warn({ err: e }, "span flush failed"));
    },
  };
}
