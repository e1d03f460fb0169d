import { VERSION } from "./version.js";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { Registry, collectDefaultMetrics } from "prom-client";
import { ConfigError, type Config } from "./config/index.js";
import {
  ChaosActionProvider,
  ChaosEngine,
  ChaosState,
  createChaosMetrics,
  incidentListWatcher,
  registerChaosRoutes,
  runbookFaultExecutor,
  CHAOS_APPLY_RUNBOOK,
  CHAOS_REVERT_RUNBOOK,
} from "./chaos/index.js";
import { createLogger, matchesAll, systemClock, type Clock, type Logger } from "./core/index.js";
import {
  Api,
  RECENT_SILENCES_MS,
  registerCoreRoutes,
  registerIncidentRoutes,
  registerSilenceRoutes,
  registerTelemetryRoutes,
} from "./http/index.js";
import {
  IncidentService,
  createIncidentMetrics,
  type Incident,
  type StoredAlert,
  type TimelineEntry,
} from "./incidents/index.js";
import {
  NotifyService,
  createChannels,
  type DispatcherEvent,
  type DispatcherSnapshot,
  type IncidentRef,
  type NotifyAlert,
} from "./notify/index.js";
import { LocalProcessProvider, type ActionProvider } from "./providers/index.js";
import {
  RunbookExecutor,
  RunbookService,
  builtinRunbookDir,
  createRunbookMetrics,
  createSecretSource,
  loadLibrary,
  registerRunbookRoutes,
  type Execution,
  type ExecutionStore,
  escalationAlert,
  type Escalation,
} from "./runbooks/index.js";
import {
  createChannelRefStore,
  createIncidentStore,
  createOutboxStore,
  createRunbookStore,
  createSettingsStore,
  createSilenceStore,
  createTokenStore,
  openDatabase,
  type Database,
} from "./storage/index.js";
import { createDetector } from "./detect/index.js";
import { ClosedLoop, type ServiceChange } from "./loop/index.js";
import { PREDICTED_ALERTNAME, PromQLClient, createTelemetry, type Telemetry } from "./ingest/index.js";
import {
  HealingController,
  HealthMonitor,
  createHealingMetrics,
  targetsFromConfig,
  transitionAlerts,
  type Transition,
} from "./healing/index.js";

export { VERSION };

/** Alerts whose last state the SQLite single-writer keeps in memory (about 100 bytes each). */
export const INGEST_DEDUP_CACHE_ALERTS = 200_000;
/** At start, alerts that changed this recently are replayed into notify, so a crash cannot drop their notifications. */
export const NOTIFY_REPLAY_WINDOW_MS = 24 * 3_600_000;
const DISPATCHER_SNAPSHOT_KEY = "notify.dispatcher";
/** The healing policy name under which the closed loop's remediations run. */
const LOOP_POLICY = "loop";

/** Who an execution the healing controller starts is requested by: `healing:` and its policy. */
function healingActor(policy: string | undefined): string {
  return `healing:${policy ?? "direct"}`;
}
const LOOP_ACTOR = healingActor(LOOP_POLICY);
/** Pages that a closed-loop run does not send: the loop follows them up itself. */
const LOOP_HANDLES: ReadonlySet<string> = new Set(["execution_failed", "remediation_failed"]);

function incidentRef(i: Incident, publicUrl: string | undefined): IncidentRef {
  return {
    id: i.id,
    key: i.key,
    title: i.title,
    severity: i.severity,
    status: i.status,
    services: i.services,
    ...(publicUrl ? { url: `${publicUrl.replace(/\/+$/, "")}/api/v1/incidents/${i.id}` } : {}),
  };
}

function notifyAlert(a: StoredAlert, i: Incident, publicUrl: string | undefined): NotifyAlert {
  return {
    fingerprint: a.fingerprint,
    labels: a.labels,
    annotations: a.annotations,
    status: a.status,
    startsAt: a.startsAt,
    ...(a.endsAt !== null ? { endsAt: a.endsAt } : {}),
    incident: incidentRef(i, publicUrl),
  };
}

function timelineOf(events: readonly DispatcherEvent[]): TimelineEntry[] {
  return events.flatMap((e): TimelineEntry[] =>
    e.kind === "silence_expired"
      ? e.incidentIds.map((incidentId) => ({
          incidentId,
          at: e.at,
          kind: "silence_expired",
          actor: "system",
          data: { silenceId: e.silence.id },
        }))
      : [
          {
            incidentId: e.incidentId,
            at: e.at,
            kind: "muted",
            actor: "system",
            data: {
              reason: e.reason,
              count: e.fingerprints.length,
              fingerprints: e.fingerprints,
              ...(e.silenceId ? { silenceId: e.silenceId } : {}),
            },
          },
        ],
  );
}

/** One number from a PromQL query: the first series' latest sample; undefined when there is none. */
function promqlValue(pq: {
  url?: string | undefined;
  timeout: number;
}): (q: string) => Promise<number | undefined> {
  const client = new PromQLClient(pq.url as string, { timeoutMs: pq.timeout });
  return async (q) => {
    const r = await client.instant(q);
    if (r.status !== "ok") return undefined;
    const s = r.value.series[0];
    return s && s.values.length ? s.values[s.values.length - 1] : undefined;
  };
}

export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Action providers besides the local-process one (the demo shop's supervisor, a cloud API). */
  providers?: ActionProvider[];
}

export interface App {
  readonly config: Config;
  readonly database: Database;
  readonly incidents: IncidentService;
  readonly notify: NotifyService;
  readonly telemetry: Telemetry;
  readonly runbooks: RunbookService;
  readonly executor: RunbookExecutor;
  /** Runbook executions and their audit, as stored. */
  readonly executions: ExecutionStore;
  readonly api: Api;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly chaos: ChaosEngine;
  /** Incident opened -> root cause ranked -> runbook started (docs/closed-loop.md). */
  readonly loop: ClosedLoop;
  /** Where the loop learns of recent changes to services (a deploy tool, the demo shop's supervisor). */
  setChangeSource(source: (since: number) => ServiceChange[]): void;
  /** Self-healing: health probes in, alerts and guarded remediations out (docs/healing.md). */
  readonly healing: {
    monitor: HealthMonitor;
    controller: HealingController;
    /** Resolves when no transition is still being turned into alerts and remediations (tests, shutdown). */
    idle(): Promise<void>;
  };
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
  const settings = createSettingsStore(database.db);
  const silences = createSilenceStore(database.db);
  const publicUrl = config.server.public_url;

  const channels = createChannels(config.notify, {
    env,
    refs: createChannelRefStore(database.db, () => clock.now()),
  });
  if (channels.status === "error") {
    await database.close();
    throw new ConfigError(
      "notify channels",
      channels.error.map((m) => {
        const at = m.indexOf(": ");
        return at > 0 ? { path: m.slice(0, at), message: m.slice(at + 2) } : { path: "", message: m };
      }),
    );
  }
  // Late-bound: notify records on the incident timeline, incidents feed notify.
  let record: (entries: TimelineEntry[]) => Promise<void> = () => Promise.resolve();
  const notify = new NotifyService({
    config: config.notify,
    store: createOutboxStore(database.db, database.dialect),
    channels: channels.value,
    clock,
    logger: logger.child({ module: "notify" }),
    registry,
    loadSnapshot: () => settings.get<DispatcherSnapshot>(DISPATCHER_SNAPSHOT_KEY),
    saveSnapshot: (s) => settings.set(DISPATCHER_SNAPSHOT_KEY, s, clock.now()),
    onEvents: (events) => record(timelineOf(events)),
    onDelivered: (item, outcome) =>
      record([
        {
          incidentId: item.payload.incident.id,
          at: clock.now(),
          kind: outcome.status === "sent" ? "notified" : "notify_failed",
          actor: "system",
          data: {
            channel: item.channel,
            kind: item.payload.kind,
            ...(outcome.status === "sent"
              ? outcome.ref
                ? { ref: outcome.ref }
                : {}
              : { error: outcome.error }),
          },
        },
      ]),
  });

  const incidents = new IncidentService({
    store: createIncidentStore(database.db),
    dedupCacheSize: database.dialect === "sqlite" ? INGEST_DEDUP_CACHE_ALERTS : 0,
    config: config.incidents,
    clock,
    logger: logger.child({ module: "incidents" }),
    metrics: createIncidentMetrics(registry),
    events: {
      alertsChanged: (changes) => {
        for (const c of changes)
          if (!c.joined && c.alert.status === "firing" && c.incident.status === "triggered")
            opened(c.incident);
        return notify.ingest(changes.map((c) => notifyAlert(c.alert, c.incident, publicUrl)));
      },
      incidentChanged: async (incident, action) => {
        if (action.type === "acknowledge" || action.type === "resolve")
          await notify.incidentEvent(incidentRef(incident, publicUrl), action.type);
      },
    },
  });
  record = (entries) => incidents.record(entries);
  // Late-bound: the loop needs telemetry and runbooks, built below.
  let opened: (i: Incident) => void = () => undefined;
  const refreshSilences = async () =>
    notify.setSilences(await silences.list(clock.now(), RECENT_SILENCES_MS));

  // Runbooks: the one executor every change passes through (see docs/runbooks.md).
  const runbookStore = createRunbookStore(database);
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
  // Pages a human when automation gives up (storm breaker, failed verification, interrupted execution,
  // healing limit): a critical alert on the execution's incident, delivered by notify like any other.
  const escalations = new Set<Promise<void>>();
  const escalate = (e: Escalation & { incidentId?: string }): void => {
    rbLogger.warn({ kind: e.kind, execution: e.executionId, target: e.target }, e.message);
    const p = (async () => {
      const exe = e.executionId ? await runbookStore.get(e.executionId) : undefined;
      // A closed-loop run that failed or did not clear its incident is a wrong guess, not the end: the loop
      // tries the next cause and pages when none is left (loop_exhausted). A page per guess would also
      // hold the incident open after the next guess fixed it, since only a person resolves a page.
      if (LOOP_HANDLES.has(e.kind) && exe?.requestedBy === LOOP_ACTOR) return;
      const incidentId = e.incidentId ?? exe?.incidentId ?? undefined;
      const inc = incidentId ? await incidents.get(incidentId) : undefined;
      const open = inc && inc.status !== "resolved" && inc.status !== "closed";
      await incidents.ingest(
        [
          escalationAlert(
            {
              ...e,
              ...(exe ? { runbook: exe.runbook.name } : {}),
              ...(open ? { incidentLabels: inc.labels } : {}),
            },
            clock.now(),
          ),
        ],
        "system:escalation",
      );
    })()
      .catch((err: unknown) => rbLogger.error({ err, kind: e.kind }, "escalation not delivered"))
      .finally(() => escalations.delete(p));
    escalations.add(p);
  };
  const pageHuman = (ev: { kind: string; message: string; executionId: string | null }) => escalate(ev);
  const executor = new RunbookExecutor({
    store: runbookStore,
    settings,
    clock,
    logger: rbLogger,
    config: config.runbooks,
    secrets: createSecretSource(env),
    providers: [localProcesses, new ChaosActionProvider(), ...(opts.providers ?? [])],
    env,
    notify: pageHuman,
    limitExempt: [CHAOS_APPLY_RUNBOOK, CHAOS_REVERT_RUNBOOK],
    metrics: rbMetrics,
    onFinished: (e) => hooks.finished?.(e),
    // Metric probes of validate steps ask the configured Prometheus (telemetry.prometheus.url).
    ...(config.telemetry.prometheus.url ? { metricQuery: promqlValue(config.telemetry.prometheus) } : {}),
  });
  // Self-healing: probe transitions become alerts (so incidents open and resolve) and feed the policies;
  // every remediation goes through the executor's guards like any other execution.
  const healingLogger = logger.child({ module: "healing" });
  const healingIncident = new Map<string, string>();
  const healingWork = new Set<Promise<void>>();
  const healingPage = (ev: { kind: string; message: string; target?: string }) => escalate(ev);
  const onHealthTransition = async (t: Transition): Promise<void> => {
    const alerts = transitionAlerts(t);
    if (alerts.length) await incidents.ingest(alerts, "healing");
    const firing = alerts.find((a) => a.status === "firing");
    const stored = firing ? await incidents.getAlert(firing.fingerprint) : undefined;
    if (stored?.incidentId) healingIncident.set(t.target.id, stored.incidentId);
    else if (t.to === "healthy") healingIncident.delete(t.target.id);
    healing.onTransition(t);
  };
  const monitor = new HealthMonitor({
    clock,
    logger: healingLogger,
    failedAfterMs: config.healing.failed_after,
    onTransition: (t) => {
      const p = onHealthTransition(t)
        .catch((err: unknown) =>
          healingLogger.error({ err, target: t.target.id }, "health transition not handled"),
        )
        .finally(() => healingWork.delete(p));
      healingWork.add(p);
    },
  });
  for (const target of targetsFromConfig(config.healing)) monitor.add(target);
  const healing = new HealingController({
    clock,
    logger: healingLogger,
    metrics: createHealingMetrics(registry),
    config: config.healing,
    page: healingPage,
    unhealthyShare: () => monitor.unhealthyShare(),
    monitoredTargets: () => monitor.size(),
    exhausted: (target) => monitor.markFailed(target),
    // The runbook service's start: library lookup, incident labels, guards, timeline entry, verification.
    start: async (req) => {
      const incidentId = req.incidentId ?? healingIncident.get(req.target);
      const e = await runbooks.startNamed({
        runbook: req.runbook,
        params: req.params,
        ...(incidentId ? { incident: { id: incidentId } } : {}),
        actor: healingActor(req.policy),
        reason: req.reason,
        ...(req.shadow ? { shadow: true } : {}),
      });
      return { executionId: e.id };
    },
  });
  const healingIdle = async () => {
    while (healingWork.size) await Promise.all([...healingWork]);
    await healing.idle();
  };

  const runbooks = new RunbookService({
    executor,
    store: runbookStore,
    library: library.runbooks,
    incidents,
    clock,
    logger: rbLogger,
    shadow: config.runbooks.shadow,
    notify: pageHuman,
    metrics: rbMetrics,
    onOutcome: (id, success) => healing.outcome(id, success),
  });
  // Executions the service does not verify (no incident, shadow) are judged by their own status.
  hooks.finished = (e) => {
    runbooks.finished(e);
    if (!e.incidentId || e.mode !== "live") healing.outcome(e.id, e.status === "succeeded");
  };
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
  registerSilenceRoutes(api, { silences, clock, changed: refreshSilences });

  // Rebuild notification state: the snapshot has what was flushed; replaying recent alerts restores
  // anything a crash caught between the incident write and the snapshot (repeats are no-ops there).
  await refreshSilences();
  await notify.start();
  const replay = await incidents.recentAlerts(clock.now() - NOTIFY_REPLAY_WINDOW_MS);
  if (replay.length)
    await notify.ingest(
      replay.filter((r) => !r.alert.flapping).map((r) => notifyAlert(r.alert, r.incident, publicUrl)),
    );
  registerRunbookRoutes(api, { service: runbooks, executor, store: runbookStore, clock });
  let watched = 0;
  const telemetry = createTelemetry({
    config: config.telemetry,
    clock,
    logger,
    registry,
    emit: (a) => {
      // Forecast breaches feed the proactive healing policies (target = the series' service).
      for (const p of a)
        if (p.status === "firing" && p.labels["alertname"] === PREDICTED_ALERTNAME)
          void healing
            .onForecast({
              target: p.labels["service"] ?? "unknown",
              labels: p.labels,
              metric: p.labels["metric"] ?? "",
              crossesAt: Date.parse(p.annotations["predicted_at"] ?? "") || clock.now(),
              threshold: Number(p.annotations["threshold"]),
            })
            .catch((err: unknown) => healingLogger.error({ err }, "forecast policy failed"));
      return incidents.ingest(a, "anomaly");
    },
    // Series chosen by `detection.watch` get a streaming detector each (NAB figures in docs/detection.md),
    // up to `detection.max_series`.
    detectorFactory: (labels) => {
      if (watched >= config.detection.max_series) return undefined;
      const selected = config.detection.watch.find((w) => matchesAll(w.matchers, labels));
      if (selected === undefined) return undefined;
      watched++;
      const d = createDetector(selected.detector ?? config.detection.detector, {
        suppression: { refractoryPoints: config.detection.quiet_after_alert },
      });
      return {
        update: (t, v) => {
          const r = d.update(t, v);
          return r.expected === null
            ? { score: r.score, anomaly: r.anomaly }
            : { score: r.score, anomaly: r.anomaly, expected: r.expected };
        },
      };
    },
  });
  registerTelemetryRoutes(api, { ...telemetry, requireAuth: config.auth.receivers.require_auth });

  const chaos = new ChaosEngine({
    state: new ChaosState(config.chaos.state_dir),
    level: config.chaos.level,
    clock,
    logger: logger.child({ module: "chaos" }),
    watcher: incidentListWatcher(incidents),
    metrics: createChaosMetrics(registry),
    watchdog: config.chaos.watchdog,
    heartbeatIntervalMs: config.chaos.heartbeat_interval,
    heartbeatStaleMs: config.chaos.heartbeat_stale,
    // Inside the app a fault is applied and reverted through the runbook executor (kill switch, guards,
    // audit); the standalone CLI keeps the direct executor.
    executor: runbookFaultExecutor({ executor, logger: logger.child({ module: "chaos" }) }),
  });
  registerChaosRoutes(api, chaos);

  let changeSource: ((since: number) => ServiceChange[]) | undefined;
  const loop = new ClosedLoop({
    config: config.loop,
    clock,
    logger: logger.child({ module: "loop" }),
    series: () => telemetry.store.all(),
    graph: () => ({
      edges: telemetry.graph.edgeViews().map((e) => ({ caller: e.caller, callee: e.callee, rate: e.rate })),
    }),
    record: (entries) => incidents.record(entries),
    getIncident: (id) => incidents.get(id),
    matches: (incident, confidence, extra) => runbooks.matches(incident, confidence, extra),
    // Through the healing controller (backoff, breaker, unhealthy limit), then the executor's guards.
    remediate: (req) => healing.remediate({ ...req, policy: LOOP_POLICY }),
    changes: (since) => changeSource?.(since) ?? [],
    health: () => {
      const bad = new Map<string, Set<string>>();
      for (const h of monitor.states()) {
        if (h.state === "healthy" || h.state === "recovering") continue;
        const svc = h.target.labels["service"] ?? h.target.id;
        const set = bad.get(svc) ?? new Set<string>();
        for (const f of h.failing) set.add(f.probe);
        bad.set(svc, set);
      }
      return [...bad].map(([service, probes]) => ({ service, failing: [...probes] }));
    },
    executionStatus: async (id) => (await runbookStore.get(id))?.status,
    escalate,
  });
  opened = (i) => loop.opened(i);

  let server: Server | undefined;

  return {
    config,
    database,
    incidents,
    notify,
    telemetry,
    runbooks,
    executor,
    executions: runbookStore,
    api,
    registry,
    logger,
    chaos,
    loop,
    setChangeSource(source) {
      changeSource = source;
    },
    healing: { monitor, controller: healing, idle: healingIdle },
    listen() {
      telemetry.start();
      monitor.start();
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
        telemetry.stop(),
        loop.close(),
        // Health transitions still write alerts: the incident queue drains after them.
        monitor
          .stop()
          .then(healingIdle)
          // Pages raised while executions stop must reach the incidents before their queue drains.
          .then(() => Promise.all([executor.close(), runbooks.close()]))
          .then(async () => {
            while (escalations.size) await Promise.all([...escalations]);
          })
          .then(() => incidents.drain()),
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
      await notify.stop();
      for (const ch of channels.value.values()) await ch.close?.();
      await database.close();
    },
  };
}
