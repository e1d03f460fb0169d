import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApp, type App } from "../app.js";
import { configSchema, type ConfigInput } from "../config/index.js";
import { createLogger } from "../core/index.js";
import { LoadGenerator, Shop, ShopProvider, DEFAULT_LOAD_RATE_PER_S } from "../demo/index.js";
import { createToken } from "../http/index.js";
import type { ServiceChange } from "../loop/index.js";
import { createTokenStore } from "../storage/index.js";
import { instanceProbes } from "./probes.js";
import type { GameDayPlatform } from "./runner.js";

/** The platform's port in the demo when free (the server's default), else any free one. */
export const DEMO_DEFAULT_PORT = 8480;
/** Scrape interval of the demo (ms): second-level metrics for detection within seconds. */
export const DEMO_SCRAPE_INTERVAL_MS = 1_000;
/** Samples kept per series in the demo: ten minutes at one per second. */
export const DEMO_SAMPLES_PER_SERIES = 600;

export function demoRunbookDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "runbooks", "demo");
}
export function builtinScenarioFile(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "scenarios", "builtin.yaml");
}

export interface DemoOptions {
  host?: string;
  /** Platform port; default 8480, or a free port when 8480 is taken; 0 picks a free one. */
  port?: number;
  /** Keep the platform's database and the shop's files here (default: a temporary folder, removed on stop). */
  dataDir?: string;
  rate?: number;
  logLevel?: "fatal" | "error" | "warn" | "info" | "debug";
  /** Where the platform's log lines go (default: DATA/novasre.log, so they do not garble the progress view). */
  logDestination?: NodeJS.WritableStream;
}

export interface Demo {
  app: App;
  shop: Shop;
  load: LoadGenerator;
  apiUrl: string;
  token: string;
  dataDir: string;
  platform: GameDayPlatform;
  stop(): Promise<void>;
}

async function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

async function anyPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

/** The demo's platform config: SQLite, second-level scraping of the shop, probes as the detectors. */
export function demoConfig(opts: {
  host: string;
  port: number;
  dataDir: string;
  targets: { url: string; labels: { service: string; instance: string; job: string } }[];
  logLevel: "fatal" | "error" | "warn" | "info" | "debug";
}): ConfigInput {
  return {
    server: { host: opts.host, port: opts.port, shutdown_grace: 10_000 },
    storage: { url: `sqlite:${join(opts.dataDir, "novasre.db")}` },
    log: { level: opts.logLevel },
    // The shop's services export traces without a token; the demo listens on loopback only.
    auth: { receivers: { require_auth: false } },
    incidents: {
      // One fault is one incident, whichever instances it hurts.
      group_by: ["system"],
      group_window: "2m",
      // Each scenario's incident is its own: no reopening the last one, no flap suppression across scenarios.
      reopen_window: 0,
      flap: { threshold: 1000, window: "1m" },
      severity: {
        rules: [{ matchers: ['service=~"gateway|store"', 'severity="critical"'], severity: "P0" }],
      },
    },
    // The demo detects through health and golden-signal probes; no streaming detector per series.
    detection: { max_series: 0 },
    telemetry: {
      scrape: {
        interval: DEMO_SCRAPE_INTERVAL_MS,
        timeout: 800,
        targets: opts.targets.map((t) => ({
          url: t.url,
          job: t.labels.job,
          instance: t.labels.instance,
          service: t.labels.service,
          labels: { system: "shop" },
        })),
      },
      series: { samples_per_series: DEMO_SAMPLES_PER_SERIES },
    },
    runbooks: {
      builtin: false,
      dirs: [demoRunbookDir()],
      // A game day repairs the same service several times within minutes.
      target_cooldown: "15s",
      rate: { max: 100, window: "1h" },
    },
    // Probes fire seconds after a fault here, and the previous scenario's repair is at least the settle
    // time (20 s) before the next fault: a 20 s onset search sees this fault's change and not that one.
    loop: { diagnose_delay: 3_000, onset_search: "20s" },
    // A store outage takes every service that reads it down with it (5 of 6 targets): the limit is for
    // mass failures with many causes, so here it only holds when nearly everything fails.
    // Scenarios hit the same service minutes apart, each a new fault after a recovery: the restart
    // backoff resets after 30 s healthy here, not the production 10 min.
    healing: { limit: { max_unhealthy_share: 0.9 }, backoff: { reset_after: "30s" } },
    chaos: { state_dir: join(opts.dataDir, "chaos") },
  };
}

/**
 * Starts the demo: the shop's six services with steady load, and the platform watching them (SQLite,
 * the shop's metrics scraped each second, its traces received, probes on every instance, the closed
 * loop on, remediation through the shop's supervisor).
 */
export async function startDemo(opts: DemoOptions = {}): Promise<Demo> {
  const host = opts.host ?? "127.0.0.1";
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), "novasre-demo-")));
  // The shop is told where to send traces before the platform listens, so the port is fixed first.
  const port =
    opts.port === undefined
      ? (await portFree(host, DEMO_DEFAULT_PORT))
        ? DEMO_DEFAULT_PORT
        : await anyPort(host)
      : opts.port === 0
        ? await anyPort(host)
        : opts.port;
  const logger = createLogger(
    opts.logLevel ?? "warn",
    opts.logDestination ?? createWriteStream(join(dataDir, "novasre.log"), { flags: "a" }),
  );
  const shop = await Shop.start({
    dataDir: join(dataDir, "shop"),
    otlpUrl: `http://${host}:${port}/v1/traces`,
    traceExportDelayMs: 1_000,
  });
  let app: App | undefined;
  try {
    const config = configSchema.parse(
      demoConfig({ host, port, dataDir, targets: shop.scrapeTargets(), logLevel: opts.logLevel ?? "warn" }),
    );
    app = await createApp(config, { logger, providers: [new ShopProvider(shop)] });
    const apiUrl = await app.listen();
    const token = (await createToken(createTokenStore(app.database.db), "demo", "admin", Date.now())).token;

    const changes: ServiceChange[] = [];
    // Config pushes are suspects; a rollback undoes the service's earlier pushes, so they no longer are.
    shop.onEvent((e) => {
      if (e.kind === "config_pushed") changes.push({ service: e.service, kind: "config", at: e.at });
      if (e.kind === "config_rolled_back")
        for (let i = changes.length - 1; i >= 0; i--)
          if (changes[i]?.service === e.service) changes.splice(i, 1);
    });
    app.setChangeSource((since) => changes.filter((c) => c.at >= since));

    const store = app.telemetry.store;
    for (const i of shop.instances()) {
      if (!i.url) continue;
      app.healing.monitor.add({
        id: i.id,
        labels: { system: "shop", service: i.service, instance: i.id },
        probes: instanceProbes(
          i,
          () => shop.instances(i.service).find((x) => x.id === i.id),
          store,
          () => Date.now(),
        ),
      });
    }
    const load = new LoadGenerator({
      gatewayUrl: shop.gatewayUrl,
      ratePerS: opts.rate ?? DEFAULT_LOAD_RATE_PER_S,
    });
    load.start();
    const a = app;
    const platform: GameDayPlatform = {
      now: () => Date.now(),
      incidentsSince: async (t) =>
        (await a.incidents.list({ since: t, limit: 100 })).sort((x, y) => x.createdAt - y.createdAt),
      onLoopEvent: (l) => a.loop.onEvent(l),
      execution: (id) => a.executions.get(id),
      alerts: (id) => a.incidents.alerts(id),
      resolve: async (id, note) => {
        await a.incidents.act(id, { type: "note", text: note }, "user:gameday");
        await a.incidents.act(id, { type: "resolve" }, "user:gameday");
      },
    };
    let stopped = false;
    return {
      app,
      shop,
      load,
      apiUrl,
      token,
      dataDir,
      platform,
      async stop() {
        if (stopped) return;
        stopped = true;
        await load.stop();
        await a.close();
        await shop.stop();
        if (ownDir) await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await shop.stop();
    throw err;
  }
}
