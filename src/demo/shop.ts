import { spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  writeFileSync,
  rmSync,
  mkdtempSync,
} from "node:fs";
import { open, readdir, stat, unlink } from "node:fs/promises";
import { isDeepStrictEqual } from "node:util";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { findFaketime } from "../chaos/index.js";
import { ErrorCode, NovaError, ValidationError, silentLogger, type Logger } from "../core/index.js";
import {
  faultsSchema,
  shopServiceSchema,
  SCALABLE_SERVICES,
  SHOP_SERVICES,
  SHOP_TOPOLOGY,
  type Faults,
  type RawServiceConfig,
  type ShopService,
} from "./config.js";
import { SERVICE_ENV } from "./service-env.js";

/** How long a service gets to open its port and pass /readyz after a (re)start (ms). Generous: 2 busy cores. */
export const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** How long SIGTERM gets before SIGKILL (ms). */
export const DEFAULT_STOP_GRACE_MS = 5_000;
/** Timeout of one health or readiness probe (ms). */
export const PROBE_TIMEOUT_MS = 2_000;
/** Pause between readiness probes while waiting (ms). */
const READY_POLL_MS = 150;
/** A scaled service may have at most this many instances: it is a laptop demo. */
export const MAX_INSTANCES = 8;
/** Largest file `fillDisk` writes in one call (MB). */
export const MAX_FILL_DISK_MB = 4_096;
/**
 * Where a partitioned service's calls go: port 1 on loopback is privileged, so no test or demo process
 * can be listening there, and a connection is refused at once.
 */
export const PARTITION_BLACKHOLE_URL = "http://127.0.0.1:1";
/** Largest clock skew `skewClock` applies (s): a day either way is enough for any certificate or token test. */
export const MAX_CLOCK_SKEW_S = 86_400;
const MB = 1024 * 1024;
/** Rotated logs (`store-0.log.3`); the live `store-0.log` never matches. */
const ROTATED_LOG = /\.log\.\d+$/;

export type InstanceState = "starting" | "running" | "stopping" | "stopped" | "crashed";

export interface InstanceInfo {
  /** `${service}-${index}`, stable across restarts. */
  id: string;
  service: ShopService;
  index: number;
  state: InstanceState;
  pid?: number;
  port?: number;
  url?: string;
  metricsUrl?: string;
  startedAt?: number;
  exitCode?: number | null;
  signal?: string | null;
  /** Starts after the first one. */
  restarts: number;
  /** Stopped with SIGSTOP (`pause`): alive but answering nothing. */
  paused: boolean;
  /** Extra environment the current process was started with (`restart(..., {env})`, `skewClock`). */
  env?: Record<string, string>;
}

export interface InstanceHealth extends InstanceInfo {
  healthy: boolean;
  ready: boolean;
  /** Why it is not ready, as the service says on /readyz (or why the probe failed). */
  reason?: string;
}

export interface ScrapeTarget {
  url: string;
  labels: { service: ShopService; instance: string; job: "novacron-demo-shop" };
}

export type ShopEvent =
  | { kind: "started"; at: number; instance: string; pid: number; port: number }
  | {
      kind: "exited";
      at: number;
      instance: string;
      code: number | null;
      signal: string | null;
      expected: boolean;
    }
  | { kind: "scaled"; at: number; service: ShopService; from: number; to: number }
  /** A new config is written and its restart begins: the moment a change source should learn of it. */
  | { kind: "config_pushed"; at: number; service: ShopService }
  | { kind: "config_applied"; at: number; service: ShopService; ready: boolean }
  | { kind: "config_rolled_back"; at: number; service: ShopService; reason: string; recovered: boolean };

export interface ReadyOutcome {
  ready: boolean;
  /** For each instance that did not get ready, why. */
  reasons: Record<string, string>;
}

export type ConfigChangeOutcome =
  | { outcome: "applied"; service: ShopService; config: RawServiceConfig }
  | {
      /** `applyConfig(..., {rollback: false})` whose service did not get ready: the bad config stays. */
      outcome: "applied_not_ready";
      service: ShopService;
      config: RawServiceConfig;
      /** What the failing instances said. */
      reason: string;
    }
  | {
      outcome: "rolled_back";
      service: ShopService;
      /** Why the new config was rejected: what the failing instance said. */
      reason: string;
      rejected: RawServiceConfig;
      restored: RawServiceConfig;
      /** Whether the service was ready again on the restored config. */
      recovered: boolean;
    };

/** How to run one service process. The default finds dist/demo/service-main.js, else runs the .ts via tsx. */
/** The most recent change the supervisor made to a service, for "what changed lately" correlation. */
export interface ShopChange {
  kind: "config" | "restart" | "scale";
  /** When the change began (ms since epoch). */
  at: number;
}

export interface RestartOptions {
  readyTimeoutMs?: number;
  /** Extra environment for the restarted processes only; the next restart without it drops it. */
  env?: Record<string, string>;
}

export interface ApplyConfigOptions {
  readyTimeoutMs?: number;
  /** Write the previous config back when the service does not get ready (default true). */
  rollback?: boolean;
}

export interface ServiceCommand {
  command: string;
  args: string[];
}

export interface ShopOptions {
  /** Config files, logs and the store's SQLite file. Default: a fresh temporary folder, removed on stop. */
  dataDir?: string;
  host?: string;
  /** The gateway's port; 0 (default) picks a free one. */
  gatewayPort?: number;
  /** Full OTLP/HTTP traces URL (platform URL + /v1/traces). Without it no spans leave the services. */
  otlpUrl?: string;
  traceExportDelayMs?: number;
  /** Initial instance counts for scalable services (default 1 each). */
  instances?: Partial<Record<ShopService, number>>;
  /** Initial configs; a service without one keeps the file already in dataDir, or uses its defaults. */
  configs?: Partial<Record<ShopService, RawServiceConfig>>;
  /** Where service output goes: a file per instance under dataDir/logs (default), the parent's, or nowhere. */
  logs?: "file" | "inherit" | "ignore";
  readyTimeoutMs?: number;
  stopGraceMs?: number;
  logger?: Logger;
  serviceCommand?: ServiceCommand;
}

interface Instance {
  id: string;
  service: ShopService;
  index: number;
  state: InstanceState;
  port: number;
  child?: ChildProcess;
  startedAt?: number;
  exitCode?: number | null;
  signal?: string | null;
  starts: number;
  expectExit: boolean;
  exited?: Promise<void>;
  paused: boolean;
  env?: Record<string, string>;
}

export function defaultServiceCommand(): ServiceCommand {
  const js = fileURLToPath(new URL("./service-main.js", import.meta.url));
  if (existsSync(js)) return { command: process.execPath, args: [js] };
  const ts = fileURLToPath(new URL("./service-main.ts", import.meta.url));
  const tsxDir = dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
  return {
    command: process.execPath,
    args: ["--import", pathToFileURL(join(tsxDir, "dist", "loader.mjs")).href, ts],
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const describeReasons = (r: ReadyOutcome): string =>
  Object.entries(r.reasons)
    .map(([id, why]) => `${id}: ${why}`)
    .join("; ");

async function probe(
  url: string,
): Promise<{ status: number; body: Record<string, unknown> } | { error: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: res.status, body };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    return { error: cause?.code ?? (e instanceof Error ? e.message : String(e)) };
  }
}

/**
 * What the platform needs from a running shop: the seam for a providers/ adapter (restart, scale,
 * config with rollback), chaos (kill, faults) and ingest (scrape targets). Shop implements it.
 */
export interface ShopControl {
  readonly gatewayUrl: string;
  instances(service?: ShopService): InstanceInfo[];
  health(service?: ShopService): Promise<InstanceHealth[]>;
  scrapeTargets(): ScrapeTarget[];
  config(service: ShopService): RawServiceConfig;
  restart(target: string, opts?: RestartOptions): Promise<ReadyOutcome>;
  stopService(target: string): Promise<void>;
  kill(target: string, signal?: NodeJS.Signals): number;
  pause(target: string): number;
  resume(target: string): number;
  scale(service: ShopService, n: number): Promise<ReadyOutcome>;
  applyConfig(
    service: ShopService,
    next: RawServiceConfig,
    opts?: ApplyConfigOptions,
  ): Promise<ConfigChangeOutcome>;
  rollbackConfig(service: ShopService): Promise<ConfigChangeOutcome>;
  setFaults(target: string, faults: Faults): Promise<string[]>;
  partition(a: string, b: string): Promise<void>;
  healPartition(a: string, b: string): Promise<void>;
  skewClock(target: string, offsetSeconds: number): Promise<ReadyOutcome>;
  fillDisk(mb: number): Promise<string>;
  purgeLogs(): Promise<{ removed: number; bytes: number }>;
  lastChange(service: ShopService): ShopChange | undefined;
  onEvent(listener: (e: ShopEvent) => void): () => void;
}

/**
 * The demo shop's local-process supervisor. It starts, stops, restarts, kills and scales service
 * processes and changes their config with rollback, but never restarts a crashed process on its own:
 * noticing and healing is the platform's job.
 */
export class Shop implements ShopControl {
  private readonly instancesById = new Map<string, Instance>();
  /** The config under which each service's instances were last all ready. */
  private readonly lastGood = new Map<ShopService, RawServiceConfig>();
  /** The config each service ran before its latest push (what a rollback returns to, like `rollout undo`). */
  private readonly previousConfig = new Map<ShopService, RawServiceConfig>();
  private readonly changes = new Map<ShopService, ShopChange>();
  /** "a>b": calls from a to b are refused. */
  private readonly partitions = new Set<string>();
  private readonly listeners = new Set<(e: ShopEvent) => void>();
  private readonly dataDir: string;
  private readonly ownsDataDir: boolean;
  private readonly host: string;
  private readonly logger: Logger;
  private readonly command: ServiceCommand;
  private readonly readyTimeoutMs: number;
  private readonly stopGraceMs: number;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private keepData = false;
  private readonly onParentExit = () => {
    for (const i of this.instancesById.values()) i.child?.kill("SIGKILL");
  };

  private constructor(private readonly opts: ShopOptions) {
    this.ownsDataDir = !opts.dataDir;
    this.dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "novacron-shop-"));
    this.host = opts.host ?? "127.0.0.1";
    this.logger = opts.logger ?? silentLogger();
    this.command = opts.serviceCommand ?? defaultServiceCommand();
    this.readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    this.stopGraceMs = opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
  }

  /** Starts every service and resolves once all are ready; on failure stops what it started and throws. */
  static async start(opts: ShopOptions = {}): Promise<Shop> {
    const shop = new Shop(opts);
    await shop.boot();
    return shop;
  }

  private async boot(): Promise<void> {
    for (const s of SCALABLE_SERVICES) this.checkCount(s, this.opts.instances?.[s] ?? 1);
    mkdirSync(join(this.dataDir, "config"), { recursive: true });
    mkdirSync(join(this.dataDir, "logs"), { recursive: true });
    for (const s of SHOP_SERVICES) {
      const given = this.opts.configs?.[s];
      if (given) this.writeConfig(s, given);
      else if (!existsSync(this.configPath(s))) this.writeConfig(s, {});
    }
    process.on("exit", this.onParentExit);
    for (const s of SHOP_SERVICES) {
      const n = SCALABLE_SERVICES.includes(s) ? (this.opts.instances?.[s] ?? 1) : 1;
      for (let i = 0; i < n; i++) this.addInstance(s, i, s === "gateway" ? (this.opts.gatewayPort ?? 0) : 0);
    }
    try {
      // All at once, on port 0: nobody knows the others' ports yet, so upstreams are pushed afterwards
      // and each service stays not-ready until it has them.
      await Promise.all([...this.instancesById.values()].map((i) => this.spawnInstance(i)));
      await this.pushUpstreams();
      const r = await this.waitReady([...this.instancesById.values()]);
      if (!r.ready)
        throw new NovaError(ErrorCode.Unavailable, "the shop did not get ready", {
          details: Object.entries(r.reasons).map(([path, message]) => ({ path, message })),
        });
      for (const s of SHOP_SERVICES) this.lastGood.set(s, this.config(s));
    } catch (e) {
      this.keepData = true; // the logs say why; the error points at them
      await this.stop();
      throw e;
    }
    this.logger.info({ gateway: this.gatewayUrl, dataDir: this.dataDir }, "shop ready");
  }

  get gatewayUrl(): string {
    const g = this.instancesById.get("gateway-0");
    return `http://${this.host}:${g?.port ?? 0}`;
  }

  get directory(): string {
    return this.dataDir;
  }

  /** Listen to what happens to the processes (starts, exits, scaling, config changes). Returns an unsubscribe. */
  onEvent(listener: (e: ShopEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  instances(service?: ShopService): InstanceInfo[] {
    return [...this.instancesById.values()]
      .filter((i) => !service || i.service === service)
      .map((i) => this.info(i));
  }

  /** Probes /healthz and /readyz of every instance (or one service's). */
  async health(service?: ShopService): Promise<InstanceHealth[]> {
    return Promise.all(
      [...this.instancesById.values()]
        .filter((i) => !service || i.service === service)
        .map(async (i): Promise<InstanceHealth> => {
          const info = this.info(i);
          if (i.state !== "running" && i.state !== "starting")
            return { ...info, healthy: false, ready: false, reason: `process ${i.state}` };
          const [h, r] = await Promise.all([probe(`${this.url(i)}/healthz`), probe(`${this.url(i)}/readyz`)]);
          const healthy = "status" in h && h.status === 200;
          const ready = "status" in r && r.status === 200;
          const reason = ready
            ? undefined
            : "error" in r
              ? r.error
              : typeof r.body["reason"] === "string"
                ? r.body["reason"]
                : `readyz ${r.status}`;
          return { ...info, healthy, ready, ...(reason ? { reason } : {}) };
        }),
    );
  }

  /** /metrics URLs with the labels a scraper should attach: the seam for ingest's Prometheus scraping. */
  scrapeTargets(): ScrapeTarget[] {
    return [...this.instancesById.values()].map((i) => ({
      url: `${this.url(i)}/metrics`,
      labels: { service: i.service, instance: i.id, job: "novacron-demo-shop" },
    }));
  }

  /** The raw JSON config a service's instances read. */
  config(service: ShopService): RawServiceConfig {
    return JSON.parse(readFileSync(this.configPath(service), "utf8")) as RawServiceConfig;
  }

  /**
   * Restarts one instance, or every instance of a service one after the other (crashed or stopped ones
   * are simply started). Resolves when they are ready or the deadline passed; never throws for a
   * service that will not get ready: the outcome says so.
   */
  restart(target: string, opts: RestartOptions = {}): Promise<ReadyOutcome> {
    return this.serial(async () => {
      const targets = this.resolve(target);
      this.noteChange(targets, "restart");
      return this.restartInstances(targets, opts.readyTimeoutMs, opts.env);
    });
  }

  /**
   * Restarts instances with their wall clock moved by `offsetSeconds` (libfaketime; the monotonic clock
   * is left alone so timers keep working). A plain `restart` later puts the clock right.
   */
  skewClock(target: string, offsetSeconds: number): Promise<ReadyOutcome> {
    if (!Number.isInteger(offsetSeconds) || Math.abs(offsetSeconds) > MAX_CLOCK_SKEW_S)
      return Promise.reject(
        new ValidationError(`clock skew must be whole seconds within ±${MAX_CLOCK_SKEW_S}`),
      );
    const lib = findFaketime();
    if (!lib)
      return Promise.reject(
        new NovaError(ErrorCode.Unavailable, "clock skew needs libfaketime (Debian package faketime)"),
      );
    const sign = offsetSeconds < 0 ? "-" : "+";
    return this.restart(target, {
      env: {
        LD_PRELOAD: lib,
        FAKETIME: `${sign}${Math.abs(offsetSeconds)}s`,
        DONT_FAKE_MONOTONIC: "1",
      },
    });
  }

  /**
   * SIGSTOPs running instances: the process is alive, holds its port and answers nothing, like a hung
   * process or a long GC pause. Returns how many were paused.
   */
  pause(target: string): number {
    let n = 0;
    for (const i of this.resolve(target))
      if (i.child && i.state === "running" && !i.paused && i.child.kill("SIGSTOP")) {
        i.paused = true;
        n++;
      }
    return n;
  }

  /** SIGCONTs paused instances; returns how many were resumed. */
  resume(target: string): number {
    let n = 0;
    for (const i of this.resolve(target))
      if (i.child && i.paused && i.child.kill("SIGCONT")) {
        i.paused = false;
        n++;
      }
    return n;
  }

  /** Stops instances (SIGTERM, then SIGKILL after the grace period). They stay in the gateway's list. */
  stopService(target: string): Promise<void> {
    return this.serial(async () => {
      await Promise.all(this.resolve(target).map((i) => this.stopInstance(i)));
    });
  }

  /** Sends a signal (default SIGKILL) without any grace: a crash, for tests and fault injection. */
  kill(target: string, signal: NodeJS.Signals = "SIGKILL"): number {
    let n = 0;
    for (const i of this.resolve(target)) if (i.child && i.state === "running" && i.child.kill(signal)) n++;
    return n;
  }

  /** Runs the service at n instances; callers learn of new ones, and forget removed ones, before they stop. */
  scale(service: ShopService, n: number): Promise<ReadyOutcome> {
    return this.serial(async () => {
      this.checkCount(service, n);
      if (!SCALABLE_SERVICES.includes(service) && n !== 1)
        throw new ValidationError(`${service} cannot be scaled: only ${SCALABLE_SERVICES.join(", ")} can`);
      const current = [...this.instancesById.values()].filter((i) => i.service === service);
      const from = current.length;
      const started = Date.now();
      let outcome: ReadyOutcome = { ready: true, reasons: {} };
      if (n > from) {
        const added = [];
        for (let k = from; k < n; k++) added.push(this.addInstance(service, k, 0));
        await Promise.all(added.map((i) => this.spawnInstance(i)));
        await this.pushUpstreams();
        outcome = await this.waitReady(added);
      } else if (n < from) {
        const removed = current.filter((i) => i.index >= n);
        for (const i of removed) this.instancesById.delete(i.id);
        await this.pushUpstreams();
        await Promise.all(removed.map((i) => this.stopInstance(i)));
      }
      this.changes.set(service, { kind: "scale", at: started });
      if (outcome.ready) this.noteGood(service);
      this.emit({ kind: "scaled", at: Date.now(), service, from, to: n });
      return outcome;
    });
  }

  /**
   * Writes a new config, restarts the service's instances and waits for readiness; if any instance is not
   * ready by the deadline, writes the previous config back and restarts again. The new config is not
   * checked here on purpose: the service is the judge, as it would be in production.
   */
  applyConfig(
    service: ShopService,
    next: RawServiceConfig,
    opts: ApplyConfigOptions = {},
  ): Promise<ConfigChangeOutcome> {
    return this.serial(async () => {
      const previous = this.config(service);
      const targets = this.resolve(service);
      this.noteChange(targets, "config");
      // The event carries when the change began: the new config is live from the restart on.
      const began = Date.now();
      this.writeConfig(service, next);
      // Said before the restart and its wait for readiness (seconds): a platform that ranks causes while
      // the push is still settling must already see it, as a deploy system records a rollout as it starts.
      this.emit({ kind: "config_pushed", at: began, service });
      const r = await this.restartInstances(targets, opts.readyTimeoutMs);
      if (r.ready || opts.rollback === false) this.previousConfig.set(service, previous);
      if (r.ready) {
        this.emit({ kind: "config_applied", at: began, service, ready: true });
        this.logger.info({ service }, "config applied");
        return { outcome: "applied", service, config: next };
      }
      const reason = describeReasons(r);
      if (opts.rollback === false) {
        this.emit({ kind: "config_applied", at: began, service, ready: false });
        this.logger.warn({ service, reason }, "config applied without rollback: not ready");
        return { outcome: "applied_not_ready", service, config: next, reason };
      }
      this.logger.warn({ service, reason }, "new config not ready: rolling back");
      this.writeConfig(service, previous);
      const back = await this.restartInstances(targets);
      this.emit({ kind: "config_rolled_back", at: Date.now(), service, reason, recovered: back.ready });
      return {
        outcome: "rolled_back",
        service,
        reason,
        rejected: next,
        restored: previous,
        recovered: back.ready,
      };
    });
  }

  /**
   * Undoes the latest config push: back to the config the service ran before it (a push can be ready and
   * still broken), or, with no push to undo, to the config under which its instances were last all ready;
   * restarts them and waits for readiness. Already on that config, it just restarts (outcome
   * `rolled_back` with the same config as rejected and restored).
   */
  rollbackConfig(service: ShopService): Promise<ConfigChangeOutcome> {
    return this.serial(async () => {
      const targets = this.resolve(service);
      const current = this.config(service);
      const good = this.previousConfig.get(service) ?? this.lastGood.get(service) ?? current;
      this.previousConfig.delete(service);
      const same = isDeepStrictEqual(current, good);
      this.noteChange(targets, same ? "restart" : "config");
      if (!same) this.writeConfig(service, good);
      const back = await this.restartInstances(targets);
      const reason = same
        ? "already on the last known-good config: restarted"
        : "rolled back to the last known-good config on request";
      this.emit({ kind: "config_rolled_back", at: Date.now(), service, reason, recovered: back.ready });
      this.logger.info({ service, recovered: back.ready, same }, "config rolled back");
      return {
        outcome: "rolled_back",
        service,
        reason: back.ready ? reason : `${reason}; still not ready: ${describeReasons(back)}`,
        rejected: current,
        restored: good,
        recovered: back.ready,
      };
    });
  }

  /** The most recent restart, scale or config change the supervisor made to a service. */
  lastChange(service: ShopService): ShopChange | undefined {
    const c = this.changes.get(service);
    return c ? { ...c } : undefined;
  }

  /**
   * Cuts calls from service `a` to service `b`: `a` is told that `b` lives at a closed loopback port, so
   * its calls fail with connection refused. Lasts until `healPartition` or a restart of `a`.
   */
  partition(a: string, b: string): Promise<void> {
    return this.serial(async () => {
      const [from, to] = this.checkPair(a, b);
      this.partitions.add(`${from}>${to}`);
      this.logger.warn({ from, to }, "network partition");
      await this.pushUpstreams();
    });
  }

  /** Gives `a` the true addresses of `b` again. */
  healPartition(a: string, b: string): Promise<void> {
    return this.serial(async () => {
      const [from, to] = this.checkPair(a, b);
      this.partitions.delete(`${from}>${to}`);
      await this.pushUpstreams();
    });
  }

  /**
   * Writes a file of `mb` MB into the logs folder, named like a rotated log of the store
   * (`store-0.log.1`, `.2`, ...), and returns its path: the disk-full fault.
   */
  async fillDisk(mb: number): Promise<string> {
    if (!Number.isInteger(mb) || mb < 1 || mb > MAX_FILL_DISK_MB)
      throw new ValidationError(`fillDisk: mb must be an integer 1..${MAX_FILL_DISK_MB}, not ${mb}`);
    const dir = join(this.dataDir, "logs");
    const names = new Set(await readdir(dir));
    let n = 1;
    while (names.has(`store-0.log.${n}`)) n++;
    const path = join(dir, `store-0.log.${n}`);
    // Real bytes in 1 MB writes, not a sparse file: df, du and stat must all agree the disk is used.
    const chunk = Buffer.alloc(MB, "x");
    const fh = await open(path, "wx");
    try {
      for (let k = 0; k < mb; k++) await fh.write(chunk);
    } finally {
      await fh.close();
    }
    this.logger.warn({ path, mb }, "disk filled");
    return path;
  }

  /** Deletes rotated logs (`*.log.<n>`) from the logs folder; live `*.log` files stay. */
  async purgeLogs(): Promise<{ removed: number; bytes: number }> {
    const dir = join(this.dataDir, "logs");
    let removed = 0;
    let bytes = 0;
    for (const name of await readdir(dir)) {
      if (!ROTATED_LOG.test(name)) continue;
      const path = join(dir, name);
      try {
        const { size } = await stat(path);
        await unlink(path);
        removed++;
        bytes += size;
      } catch (err) {
        // gone already (a concurrent purge): nothing to free
        this.logger.debug({ path, err }, "rotated log vanished");
      }
    }
    this.logger.info({ removed, bytes }, "rotated logs purged");
    return { removed, bytes };
  }

  /**
   * Sets run-time faults (added latency, share of 500s, CPU hog, memory leak) on running instances,
   * without a restart; a restart returns them to the config's values (and clears CPU hog and leak).
   * Returns the ids of the instances that took them. The seam for chaos experiments.
   */
  async setFaults(target: string, faults: Faults): Promise<string[]> {
    const parsed = faultsSchema.safeParse(faults);
    if (!parsed.success)
      throw new ValidationError(
        "faults: extra_latency_ms 0..600000, error_rate 0..1, cpu_hog 0..1, leak_mb_per_s 0..1024",
      );
    const took: string[] = [];
    await Promise.all(
      this.resolve(target)
        .filter((i) => i.state === "running")
        .map(async (i) => {
          try {
            const res = await fetch(`${this.url(i)}/admin/faults`, {
              method: "PUT",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(parsed.data),
              signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
            });
            await res.arrayBuffer();
            if (res.ok) took.push(i.id);
          } catch (err) {
            this.logger.warn({ instance: i.id, err }, "fault push failed");
          }
        }),
    );
    return took.sort();
  }

  /** Stops every process; safe to call twice. Removes the data folder if the shop made it. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.queue.catch(() => undefined);
    await Promise.all([...this.instancesById.values()].map((i) => this.stopInstance(i)));
    process.off("exit", this.onParentExit);
    if (this.ownsDataDir && !this.keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }

  // --- internals ---

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new NovaError(ErrorCode.Unavailable, "the shop is stopped"));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private noteChange(targets: Instance[], kind: ShopChange["kind"]): void {
    const at = Date.now();
    for (const s of new Set(targets.map((i) => i.service))) this.changes.set(s, { kind, at });
  }

  /** Records the service's current config as known good when all its instances answer ready. */
  private noteGood(service: ShopService): void {
    this.lastGood.set(service, this.config(service));
  }

  private checkPair(a: string, b: string): [ShopService, ShopService] {
    const from = shopServiceSchema.safeParse(a);
    const to = shopServiceSchema.safeParse(b);
    if (!from.success || !to.success || !SHOP_TOPOLOGY[from.data].includes(to.data))
      throw new ValidationError(
        `cannot partition ${JSON.stringify(a)} from ${JSON.stringify(b)}: b must be a service a calls`,
      );
    return [from.data, to.data];
  }

  private checkCount(service: ShopService, n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > MAX_INSTANCES)
      throw new ValidationError(`instances of ${service} must be 1..${MAX_INSTANCES}, not ${n}`);
  }

  private resolve(target: string): Instance[] {
    const byService = [...this.instancesById.values()].filter((i) => i.service === target);
    if (byService.length) return byService;
    const one = this.instancesById.get(target);
    if (!one) throw new ValidationError(`no service or instance called ${JSON.stringify(target)}`);
    return [one];
  }

  private addInstance(service: ShopService, index: number, port: number): Instance {
    const i: Instance = {
      id: `${service}-${index}`,
      service,
      index,
      state: "stopped",
      port,
      starts: 0,
      expectExit: false,
      paused: false,
    };
    this.instancesById.set(i.id, i);
    return i;
  }

  private configPath(service: ShopService): string {
    return join(this.dataDir, "config", `${service}.json`);
  }

  private writeConfig(service: ShopService, config: RawServiceConfig): void {
    writeFileSync(this.configPath(service), `${JSON.stringify(config, null, 2)}\n`);
  }

  private logPath(i: Instance): string {
    return join(this.dataDir, "logs", `${i.id}.log`);
  }

  private url(i: Instance): string {
    return `http://${this.host}:${i.port}`;
  }

  private info(i: Instance): InstanceInfo {
    const known = i.port > 0;
    return {
      id: i.id,
      service: i.service,
      index: i.index,
      state: i.state,
      ...(i.child?.pid !== undefined && (i.state === "running" || i.state === "starting")
        ? { pid: i.child.pid }
        : {}),
      ...(known ? { port: i.port, url: this.url(i), metricsUrl: `${this.url(i)}/metrics` } : {}),
      ...(i.startedAt !== undefined ? { startedAt: i.startedAt } : {}),
      ...(i.exitCode !== undefined ? { exitCode: i.exitCode } : {}),
      ...(i.signal !== undefined ? { signal: i.signal } : {}),
      restarts: Math.max(0, i.starts - 1),
      paused: i.paused,
      ...(i.env ? { env: { ...i.env } } : {}),
    };
  }

  private emit(e: ShopEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.error({ err }, "shop event listener failed");
      }
    }
  }

  private upstreamsFor(service: ShopService): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const dep of SHOP_TOPOLOGY[service]) {
      const cut = this.partitions.has(`${service}>${dep}`);
      out[dep] = [...this.instancesById.values()]
        .filter((i) => i.service === dep && i.port > 0)
        .sort((a, b) => a.index - b.index)
        .map((i) => (cut ? PARTITION_BLACKHOLE_URL : this.url(i)));
    }
    return out;
  }

  /** Tells every running instance where its dependencies are now. */
  private async pushUpstreams(): Promise<void> {
    await Promise.all(
      [...this.instancesById.values()]
        .filter((i) => i.state === "running" && SHOP_TOPOLOGY[i.service].length > 0)
        .map(async (i) => {
          try {
            const res = await fetch(`${this.url(i)}/admin/upstreams`, {
              method: "PUT",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ upstreams: this.upstreamsFor(i.service) }),
              signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
            });
            await res.arrayBuffer();
            if (!res.ok) this.logger.warn({ instance: i.id, status: res.status }, "upstream push refused");
          } catch (err) {
            // A dead instance gets the list at its next start, through its environment.
            this.logger.warn({ instance: i.id, err }, "upstream push failed");
          }
        }),
    );
  }

  /**
   * Restarts one by one, each with `env` (or none: a previous skew or extra env is dropped). A restart of
   * a service heals the partitions it is the caller side of, as a fresh process gets true addresses.
   */
  private async restartInstances(
    targets: Instance[],
    readyTimeoutMs?: number,
    env?: Record<string, string>,
  ): Promise<ReadyOutcome> {
    const services = new Set(targets.map((i) => i.service));
    let healed = false;
    for (const key of [...this.partitions])
      if (services.has(key.split(">")[0] as ShopService)) {
        this.partitions.delete(key);
        healed = true;
      }
    for (const i of targets) {
      await this.stopInstance(i);
      const portBefore = i.port;
      if (env) i.env = { ...env };
      else delete i.env;
      await this.spawnInstance(i);
      if (i.port !== portBefore) await this.pushUpstreams();
    }
    // Other instances of a healed service, not restarted here, must not keep the blackhole either.
    if (healed) await this.pushUpstreams();
    const r = await this.waitReady(targets, readyTimeoutMs);
    if (r.ready)
      for (const s of services)
        if (this.instances(s).every((x) => x.state === "running" && !x.paused)) this.noteGood(s);
    return r;
  }

  /**
   * Spawns the process and waits until it listens. A restart reuses the instance's port, or takes a free
   * one if it is gone; a first start on a port someone asked for (the gateway's) fails instead.
   */
  private async spawnInstance(i: Instance): Promise<void> {
    const firstStart = i.starts === 0;
    const first = await this.spawnOnce(i, i.port);
    if (first === null || i.port === 0 || firstStart) return;
    this.logger.warn({ instance: i.id, port: i.port, why: first }, "could not reuse port: taking a free one");
    const second = await this.spawnOnce(i, 0);
    if (second !== null) this.logger.error({ instance: i.id, why: second }, "instance did not start");
  }

  /** Resolves with null once the process listens, else with why it did not. */
  private spawnOnce(i: Instance, port: number): Promise<string | null> {
    const logMode = this.opts.logs ?? "file";
    const fd = logMode === "file" ? openSync(this.logPath(i), "a") : undefined;
    const out = fd ?? (logMode === "inherit" ? "inherit" : "ignore");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      [SERVICE_ENV.service]: i.service,
      [SERVICE_ENV.instance]: i.id,
      [SERVICE_ENV.port]: String(port),
      [SERVICE_ENV.config]: this.configPath(i.service),
      [SERVICE_ENV.upstreams]: JSON.stringify(this.upstreamsFor(i.service)),
      [SERVICE_ENV.dataDir]: this.dataDir,
      ...i.env,
    };
    if (this.opts.otlpUrl) env[SERVICE_ENV.otlpUrl] = this.opts.otlpUrl;
    if (this.opts.traceExportDelayMs)
      env[SERVICE_ENV.traceExportDelayMs] = String(this.opts.traceExportDelayMs);
    // Own process group: a Ctrl-C in the terminal reaches the supervisor only, which stops them in order.
    // If the supervisor dies anyway, the IPC channel closes and each service exits (see service-main.ts).
    const child = spawn(this.command.command, this.command.args, {
      env,
      stdio: ["ignore", out, out, "ipc"],
      detached: true,
    });
    if (fd !== undefined) closeSync(fd);
    i.child = child;
    i.state = "starting";
    i.paused = false;
    i.expectExit = false;
    i.starts++;
    i.exitCode = undefined;
    i.signal = undefined;
    i.exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        const expected = i.expectExit;
        if (i.child === child) {
          i.state = expected ? "stopped" : "crashed";
          i.paused = false;
          i.exitCode = code;
          i.signal = signal;
        }
        this.emit({ kind: "exited", at: Date.now(), instance: i.id, code, signal, expected });
        if (!expected) this.logger.warn({ instance: i.id, code, signal }, "instance exited");
        resolve();
      });
    });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        cleanup();
        i.expectExit = true;
        child.kill("SIGKILL");
        resolve(`no port within ${this.readyTimeoutMs} ms`);
      }, this.readyTimeoutMs);
      const onMessage = (m: unknown) => {
        const msg = m as { type?: string; port?: number };
        if (msg.type !== "listening" || typeof msg.port !== "number") return;
        cleanup();
        i.port = msg.port;
        i.state = "running";
        i.startedAt = Date.now();
        this.emit({ kind: "started", at: i.startedAt, instance: i.id, pid: child.pid ?? 0, port: msg.port });
        resolve(null);
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        resolve(`exited before listening (code ${code}, signal ${signal})`);
      };
      const onError = (e: Error) => {
        cleanup();
        resolve(`spawn failed: ${e.message}`);
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        child.off("error", onError);
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
      child.once("error", onError);
    });
  }

  private async stopInstance(i: Instance): Promise<void> {
    const child = i.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      if (i.state !== "crashed") i.state = "stopped";
      return;
    }
    i.expectExit = true;
    i.state = "stopping";
    if (i.paused) {
      // A stopped process cannot run its graceful shutdown, and a hung one has earned none: kill it now,
      // so healing a paused instance takes a moment, not the grace period.
      child.kill("SIGKILL");
      await i.exited;
      i.paused = false;
      return;
    }
    child.kill("SIGTERM");
    const killed = sleep(this.stopGraceMs).then(() => "timeout" as const);
    if ((await Promise.race([i.exited, killed])) === "timeout") {
      child.kill("SIGKILL");
      await i.exited;
    }
  }

  private async waitReady(targets: Instance[], timeoutMs = this.readyTimeoutMs): Promise<ReadyOutcome> {
    const deadline = Date.now() + timeoutMs;
    const reasons: Record<string, string> = {};
    await Promise.all(
      targets.map(async (i) => {
        let last = "not started";
        while (Date.now() < deadline) {
          if (i.state !== "running") {
            last = `process ${i.state}${i.exitCode !== undefined ? ` (code ${i.exitCode}, signal ${i.signal ?? "none"})` : ""}`;
            if ((this.opts.logs ?? "file") === "file") last += `; see ${this.logPath(i)}`;
            if (i.state !== "starting") break;
          } else {
            const r = await probe(`${this.url(i)}/readyz`);
            if ("status" in r && r.status === 200) return;
            last =
              "error" in r
                ? r.error
                : typeof r.body["reason"] === "string"
                  ? r.body["reason"]
                  : `readyz ${r.status}`;
          }
          await sleep(READY_POLL_MS);
        }
        reasons[i.id] = last;
      }),
    );
    return { ready: Object.keys(reasons).length === 0, reasons };
  }
}
