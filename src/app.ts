import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { Registry, collectDefaultMetrics } from "prom-client";
import type { Config } from "./config/index.js";
import { createLogger, systemClock, type Clock, type Logger } from "./core/index.js";
import { Api, registerCoreRoutes, registerIncidentRoutes } from "./http/index.js";
import { IncidentService, createIncidentMetrics } from "./incidents/index.js";
import { LocalProcessProvider } from "./providers/index.js";
import {
  RunbookExecutor,
  RunbookService,
  builtinRunbookDir,
  createRunbookMetrics,
  createSecretSource,
  loadLibrary,
  registerRunbookRoutes,
  type Execution,
} from "./runbooks/index.js";
import {
  createIncidentStore,
  createRunbookStore,
  createSettingsStore,
  createTokenStore,
  openDatabase,
  type Database,
} from "./storage/index.js";

export const VERSION = "0.1.0";

/** Alerts whose last state the SQLite single-writer keeps in memory (about 100 bytes each). */
export const INGEST_DEDUP_CACHE_ALERTS = 200_000;

export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

export interface App {
  readonly config: Config;
  readonly database: Database;
  readonly incidents: IncidentService;
  readonly runbooks: RunbookService;
  readonly executor: RunbookExecutor;
  readonly api: Api;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Listens on the configured address; resolves with the base URL. */
  listen(): Promise<string>;
  /** Stops taking requests, drains in-flight work within the grace period, closes the database. */
  close(): Promise<void>;
}

/** The one composition root: everything the server runs is built and wired here, from the config. */
export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? createLogger(config.log.level);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const database = await openDatabase(config.storage.url);
  const tokens = createTokenStore(database.db);
  const incidents = new IncidentService({
    store: createIncidentStore(database.db),
    dedupCacheSize: database.dialect === "sqlite" ? INGEST_DEDUP_CACHE_ALERTS : 0,
    config: config.incidents,
    clock,
    logger: logger.child({ module: "incidents" }),
    metrics: createIncidentMetrics(registry),
  });

  // Runbooks: the one executor every change passes through (see docs/runbooks.md).
  const runbookStore = createRunbookStore(database.db);
  const localProcesses = new LocalProcessProvider(config.runbooks.processes);
  const rbLogger = logger.child({ module: "runbooks" });
  const rbMetrics = createRunbookMetrics(registry);
  const library = await loadLibrary([
    ...(config.runbooks.builtin ? [builtinRunbookDir()] : []),
    ...config.runbooks.dirs,
  ]);
  for (const err of library.errors) rbLogger.error({ problems: err.format() }, "runbook file skipped");
  // The service is built after the executor it wraps; the executor's hook reaches it through this.
  const hooks: { finished?: (e: Execution) => void } = {};
  const notify = (ev: { kind: string; message: string; executionId: string | null }) =>
    rbLogger.warn({ kind: ev.kind, execution: ev.executionId }, ev.message);
  const executor = new RunbookExecutor({
    store: runbookStore,
    settings: createSettingsStore(database.db),
    clock,
    logger: rbLogger,
    config: config.runbooks,
    secrets: createSecretSource(env),
    providers: [localProcesses],
    env,
    notify,
    metrics: rbMetrics,
    onFinished: (e) => hooks.finished?.(e),
  });
  const runbooks = new RunbookService({
    executor,
    store: runbookStore,
    library: library.runbooks,
    incidents,
    clock,
    logger: rbLogger,
    shadow: config.runbooks.shadow,
    notify,
    metrics: rbMetrics,
  });
  hooks.finished = (e) => runbooks.finished(e);
  const recovered = await executor.recover();
  if (recovered.resumed + recovered.rolledBack + recovered.interrupted + recovered.waiting > 0)
    rbLogger.info(recovered, "runbook executions recovered");

  let closing = false;
  const hmacEnv = config.auth.receivers.hmac_secret_env;
  const coreDeps = {
    tokens,
    clock,
    logger,
    registry,
    bodyLimitBytes: config.server.body_limit_bytes,
    receivers: {
      requireAuth: config.auth.receivers.require_auth,
      hmacSecret: hmacEnv ? env[hmacEnv] : undefined,
      maxSkewMs: config.auth.receivers.hmac_max_skew,
    },
    version: VERSION,
    ready: async () => ({ database: await database.ping(), accepting: !closing }),
  };
  if (hmacEnv && !coreDeps.receivers.hmacSecret)
    logger.warn({ env: hmacEnv }, "HMAC secret variable is not set; signed requests will be refused");

  const api = new Api(coreDeps);
  registerCoreRoutes(api, coreDeps);
  registerIncidentRoutes(api, incidents, clock);
  registerRunbookRoutes(api, { service: runbooks, executor, store: runbookStore, clock });

  let server: Server | undefined;

  return {
    config,
    database,
    incidents,
    runbooks,
    executor,
    api,
    registry,
    logger,
    listen() {
      return new Promise((resolve, reject) => {
        const s = serve(
          { fetch: api.app.fetch, hostname: config.server.host, port: config.server.port },
          (info: AddressInfo) => {
            const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
            resolve(`http://${host}:${info.port}`);
          },
        ) as Server;
        s.once("error", reject);
        server = s;
      });
    },
    async close() {
      if (closing) return;
      closing = true;
      const grace = config.server.shutdown_grace;
      const stopped = server
        ? new Promise<void>((r) => {
            server?.close(() => r());
            // Idle keep-alive sockets would hold close() open for their whole timeout.
            server?.closeIdleConnections();
          })
        : Promise.resolve();
      const drained = Promise.all([
        api.idle(),
        incidents.drain(),
        executor.close(),
        runbooks.close(),
        stopped,
      ]);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        drained.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), grace))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        logger.warn({ graceMs: grace }, "shutdown grace period ended with work in flight");
        server?.closeAllConnections();
      }
      await localProcesses.close();
      await database.close();
    },
  };
}
