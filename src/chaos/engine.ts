import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newId, silentLogger, systemClock, type Clock, type Logger } from "../core/index.js";
import { pidAlive, runActions } from "./actions.js";
import {
  BASELINE_SAMPLES,
  DEFAULT_RECOVERY_POLL_MS,
  type Experiment,
  type Level,
  type Probe,
} from "./experiment.js";
import { describePlan, planFault, type PlannedFault } from "./faults.js";
import { compactLedger, revertPending, type RevertReport } from "./ledger.js";
import type { ChaosMetrics } from "./metrics.js";
import { checkTolerance, defaultTarget, numericValue, runProbe, type ProbeOutput } from "./probes.js";
import { ProxyManager } from "./proxy.js";
import { startProxyApi, type ProxyApi } from "./proxy-api.js";
import { blastRadiusViolations, LEVEL_POLICIES } from "./safety.js";
import type { ChaosState } from "./state.js";
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HEARTBEAT_STALE_MS,
  Heartbeat,
  heartbeatAgeMs,
  heartbeatOwner,
  spawnWatchdog,
  STOP_POLL_INTERVAL_MS,
} from "./state.js";
import { resolveExperiment } from "./validate.js";
import type { PlatformWatcher, WatchedIncident } from "./watcher.js";

/** How often the platform watcher is polled while a fault is active. */
export const PLATFORM_POLL_MS = 1_000;
/** Severities during whose open incidents no experiment starts. */
export const BLOCKING_SEVERITIES = ["P0", "P1"] as const;

/**
 * Where apply and revert run. The direct executor runs the actions itself (the standalone CLI); inside the
 * app, runbookFaultExecutor runs the same planned actions as runbook executions (kill switch, guards, audit).
 */
export interface FaultExecutor {
  apply(f: PlannedFault, runId: string): Promise<string[]>;
  revert(f: PlannedFault, runId: string): Promise<string[]>;
}
export const directExecutor: FaultExecutor = {
  apply: (f) => runActions(f.apply),
  revert: (f) => runActions(f.revert),
};

export interface ProbeRecord {
  name: string;
  ok: boolean;
  value?: unknown;
  reason?: string;
  output: ProbeOutput;
  at: number;
}
export interface SteadyState {
  met: boolean;
  probes: ProbeRecord[];
}
export interface JournalStep {
  type: "fault" | "wait" | "probe" | "action" | "revert" | "rollback";
  name: string;
  status: "succeeded" | "failed" | "skipped";
  start: number;
  end: number;
  duration: number;
  detail?: unknown;
  error?: string;
}
export type RunStatus = "completed" | "deviated" | "aborted" | "failed" | "refused" | "dry-run";

export interface Journal {
  id: string;
  experiment: { title: string; description: string; tags: string[] };
  level: Level;
  status: RunStatus;
  deviated: boolean;
  start: number;
  end: number;
  duration: number;
  preflight: { check: string; ok: boolean; detail: string }[];
  plan: string[];
  blast_radius: { targets: number; share: number };
  steady_states: { before?: SteadyState; after?: SteadyState; baseline: Record<string, number> };
  run: JournalStep[];
  rollbacks: JournalStep[];
  abort?: { at: number; reason: string };
  recovery: { reverted_at?: number; steady_at?: number; recovery_time_s?: number };
  platform?: {
    first_fault_at: number;
    incident_id?: string;
    detected_at?: number;
    incident_opened_at?: number;
    recovered_at?: number;
    time_to_detect_s?: number;
    time_to_open_s?: number;
    time_to_recover_s?: number;
    error?: string;
  };
}

export interface ChaosEngineDeps {
  state: ChaosState;
  /** The environment this engine runs in; runs may ask for dry-run, never for more. */
  level: Level;
  clock?: Clock;
  logger?: Logger;
  watcher?: PlatformWatcher;
  metrics?: ChaosMetrics;
  executor?: FaultExecutor;
  /** Start the detached watchdog (dead-man's switch) for each run. */
  watchdog?: boolean;
  heartbeatIntervalMs?: number;
  heartbeatStaleMs?: number;
  /** Progress lines for a person (the CLI prints them). */
  out?: (line: string) => void;
}

export interface RunOptions {
  dryRun?: boolean;
  /** Required at production level. */
  confirmProduction?: boolean;
  /** Directory for relative paths (disk-fill). */
  cwd?: string;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/** Runs experiments with the safety envelope: pre-flight, ledger-first faults, guards, stop, watchdog. */
export class ChaosEngine {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly executor: FaultExecutor;
  private readonly active = new Set<AbortController>();
  private running = false;

  constructor(private readonly deps: ChaosEngineDeps) {
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger();
    this.executor = deps.executor ?? directExecutor;
  }

  get state(): ChaosState {
    return this.deps.state;
  }

  private say(line: string): void {
    this.deps.out?.(line);
  }

  /** Reverts whatever a crashed run left in the ledger. Call at start, before any run. */
  async recover(): Promise<RevertReport> {
    this.state.ensure();
    const report = await revertPending(this.state.ledger, `recovery(pid ${process.pid})`, () =>
      this.clock.now(),
    );
    if (report.reverted.length) {
      this.logger.warn({ reverted: report.reverted.length }, "reverted faults left over by a previous run");
      this.say(`recovered: reverted ${report.reverted.length} fault(s) left over by a previous run`);
    }
    compactLedger(this.state.ledger);
    return report;
  }

  /** Emergency stop: flag (survives restarts), abort runs in this process, revert every ledger entry. */
  async emergencyStop(by: string, reason: string): Promise<RevertReport & { ms: number }> {
    const t0 = performance.now();
    this.state.setStop({ at: this.clock.now(), by, reason });
    for (const c of this.active) c.abort(new Error(`emergency stop by ${by}: ${reason}`));
    const report = await revertPending(this.state.ledger, `stop(${by})`, () => this.clock.now());
    return { ...report, ms: performance.now() - t0 };
  }

  clearStop(): boolean {
    return this.state.clearStop();
  }

  private async steadyState(
    probes: Probe[],
    baseline: Record<string, number>,
    signal?: AbortSignal,
  ): Promise<SteadyState> {
    const records = await Promise.all(
      probes.map(async (p) => {
        const output = await runProbe(p, signal);
        const r = checkTolerance(output, p.tolerance, defaultTarget(p), baseline[p.name]);
        return {
          name: p.name,
          ok: r.ok,
          value: r.value,
          ...(r.reason ? { reason: r.reason } : {}),
          output,
          at: this.clock.now(),
        };
      }),
    );
    return { met: records.every((r) => r.ok), probes: records };
  }

  async run(raw: Experiment, opts: RunOptions = {}): Promise<Journal> {
    const level: Level = opts.dryRun ? "dry-run" : this.deps.level;
    const policy = LEVEL_POLICIES[level];
    const start = this.clock.now();
    const runId = newId("run", start);
    const j: Journal = {
      id: runId,
      experiment: { title: raw.title, description: raw.description, tags: raw.tags },
      level,
      status: "completed",
      deviated: false,
      start,
      end: start,
      duration: 0,
      preflight: [],
      plan: [],
      blast_radius: { targets: 0, share: 0 },
      steady_states: { baseline: {} },
      run: [],
      rollbacks: [],
      recovery: {},
    };
    const check = (name: string, ok: boolean, detail: string, violation?: string) => {
      j.preflight.push({ check: name, ok, detail });
      if (!ok && violation) this.deps.metrics?.safetyViolation(violation);
      return ok;
    };
    const finish = (status: RunStatus): Journal => {
      j.status = status;
      j.end = this.clock.now();
      j.duration = (j.end - j.start) / 1000;
      this.deps.metrics?.experimentFinished(status, level);
      if (status !== "dry-run" && status !== "refused")
        this.deps.metrics?.blastRadius(j.blast_radius.targets);
      try {
        mkdirSync(this.state.journalDir, { recursive: true });
        writeFileSync(join(this.state.journalDir, `${runId}.json`), JSON.stringify(j, null, 2));
      } catch (e) {
        this.logger.error({ err: e }, "could not write the journal");
      }
      return j;
    };

    // Configuration and secrets are substituted here; the journal keeps only the raw experiment's title.
    const resolved = resolveExperiment(raw, process.env);
    if (resolved.status === "error") {
      check("configuration", false, resolved.error);
      return finish("refused");
    }
    const exp = resolved.value;

    // ---- pre-flight: nothing is applied unless every check passes ----
    const stop = this.state.stopFlag();
    check(
      "emergency stop clear",
      !stop,
      stop
        ? `stopped by ${stop.by} at ${new Date(stop.at).toISOString()}: ${stop.reason} (clear with novasre chaos clear)`
        : "clear",
      "emergency_stop",
    );
    // One run per state directory: the heartbeat and the ledger's "pending" belong to a single run.
    const staleMs = this.deps.heartbeatStaleMs ?? DEFAULT_HEARTBEAT_STALE_MS;
    const owner = heartbeatOwner(this.state.heartbeatPath);
    const age = heartbeatAgeMs(this.state.heartbeatPath);
    const otherRun =
      this.running ||
      (owner !== undefined &&
        owner !== process.pid &&
        pidAlive(owner) &&
        age !== undefined &&
        age <= staleMs);
    check(
      "no other run in progress",
      !otherRun,
      otherRun ? `a run is in progress (engine pid ${this.running ? process.pid : owner})` : "none",
      "concurrent_run",
    );
    const leftover = this.state.ledger.pending();
    check(
      "ledger empty",
      leftover.length === 0,
      leftover.length ? `${leftover.length} fault(s) not reverted (run novasre chaos recover)` : "empty",
      "ledger",
    );
    if (this.deps.level === "production" && !opts.dryRun)
      check(
        "production confirmed",
        !!opts.confirmProduction,
        opts.confirmProduction
          ? "confirmed"
          : "production runs need explicit confirmation (--yes-production)",
        "level",
      );
    if (policy.requireSteadyState)
      check(
        "steady-state hypothesis declared",
        exp.steady_state.probes.length > 0,
        `level ${level} requires one`,
        "level",
      );
    if (policy.requireGuards)
      check(
        "guards declared",
        exp.guards.probes.length > 0,
        `level ${level} requires guard probes (auto-abort)`,
        "level",
      );

    const proxyPlaceholder = "http://127.0.0.1:{engine-proxy-port}";
    let proxyApi: ProxyApi | undefined;
    const cleanupProxies = async () => {
      await proxyApi?.close();
      proxyApi = undefined;
    };
    if (exp.proxies.length && !opts.dryRun && j.preflight.every((c) => c.ok)) {
      try {
        proxyApi = await startProxyApi({ manager: new ProxyManager() });
        for (const p of exp.proxies) await proxyApi.manager.create(p);
        check(
          "proxies started",
          true,
          proxyApi.manager
            .list()
            .map((p) => `${p.spec.name} ${p.address} -> ${p.spec.upstream}`)
            .join(", "),
        );
      } catch (e) {
        check("proxies started", false, (e as Error).message);
      }
    }
    const faults: PlannedFault[] = [];
    const faultSteps = exp.method.flatMap((s) => ("fault" in s ? [s.fault] : []));
    for (const spec of faultSteps) {
      try {
        const f = planFault(
          spec,
          {
            localProxyApi: proxyApi?.url ?? proxyPlaceholder,
            heartbeatPath: this.state.heartbeatPath,
            heartbeatStaleMs: this.deps.heartbeatStaleMs ?? DEFAULT_HEARTBEAT_STALE_MS,
            ...(opts.cwd ? { cwd: opts.cwd } : {}),
          },
          this.clock.now(),
        );
        faults.push(f);
        j.plan.push(...describePlan(f));
        if (f.refusal) check(`fault ${f.name} possible`, false, f.refusal, "capability");
        if (!policy.faults.includes(spec.type))
          check(
            `fault ${f.name} allowed`,
            false,
            `${spec.type} is not allowed at level ${level} (allowed: ${policy.faults.join(", ")})`,
            "level",
          );
        if (spec.type === "cpu" && spec.load_pct > policy.maxCpuPct)
          check(
            `fault ${f.name} allowed`,
            false,
            `CPU load ${spec.load_pct}% exceeds ${policy.maxCpuPct}% at level ${level}`,
            "level",
          );
        if ((spec.duration ?? 0) > policy.maxFaultMs)
          check(
            `fault ${f.name} allowed`,
            false,
            `duration exceeds ${policy.maxFaultMs}ms at level ${level}`,
            "level",
          );
      } catch (e) {
        check(`fault ${spec.name} planned`, false, (e as Error).message);
      }
    }
    const targets = new Set(faults.flatMap((f) => f.targets));
    j.blast_radius = {
      targets: targets.size,
      share: Math.max(0, ...faults.map((f) => (f.candidates ? f.targets.length / f.candidates : 0))),
    };
    const limit = {
      maxTargets: Math.min(policy.maxTargets, exp.blast_radius.max_targets ?? Infinity),
      maxShare: Math.min(policy.maxShare, exp.blast_radius.max_share ?? Infinity),
    };
    const radius = blastRadiusViolations(j.blast_radius, limit);
    check(
      "blast radius",
      radius.length === 0,
      radius.join("; ") ||
        `${j.blast_radius.targets} target(s), ${(j.blast_radius.share * 100).toFixed(0)}% share within limits`,
      "blast_radius",
    );

    if (opts.dryRun) {
      check("steady state", true, "not probed in dry-run");
      await cleanupProxies();
      return finish(j.preflight.every((c) => c.ok) ? "dry-run" : "refused");
    }
    if (this.deps.watcher && j.preflight.every((c) => c.ok)) {
      try {
        const open = await this.deps.watcher.openIncidents(BLOCKING_SEVERITIES);
        check(
          "no open P0/P1 incident",
          open.length === 0,
          open.length
            ? `open: ${open.map((i) => `${i.id} ${i.severity} ${i.title}`).join("; ")}`
            : "none open",
          "incident_open",
        );
      } catch (e) {
        check(
          "no open P0/P1 incident",
          false,
          `platform unreachable: ${(e as Error).message}`,
          "incident_open",
        );
      }
    }
    if (j.preflight.every((c) => c.ok)) {
      // Baselines first (the median of a few samples just before the run), then the hypothesis itself.
      const baseProbes = exp.steady_state.probes.filter((p) => p.tolerance?.baseline);
      for (const p of baseProbes) {
        const samples: number[] = [];
        for (let i = 0; i < BASELINE_SAMPLES; i++) {
          const v = numericValue(await runProbe(p), p.tolerance, defaultTarget(p));
          if (v !== undefined) samples.push(v);
        }
        if (samples.length) j.steady_states.baseline[p.name] = median(samples);
      }
      const before = await this.steadyState(exp.steady_state.probes, j.steady_states.baseline);
      j.steady_states.before = before;
      check(
        "steady state holds",
        before.met,
        before.probes
          .filter((p) => !p.ok)
          .map((p) => `${p.name}: ${p.reason}`)
          .join("; ") || "all probes within tolerance",
        "steady_state",
      );
    }
    if (!j.preflight.every((c) => c.ok)) {
      await cleanupProxies();
      for (const c of j.preflight.filter((x) => !x.ok)) this.say(`refused: ${c.check}: ${c.detail}`);
      return finish("refused");
    }

    // ---- the run ----
    this.running = true;
    const abort = new AbortController();
    this.active.add(abort);
    const onAbort = (reason: string) => {
      if (abort.signal.aborted) return;
      j.abort = { at: this.clock.now(), reason };
      this.say(`ABORT: ${reason}`);
      abort.abort(new Error(reason));
    };
    abort.signal.addEventListener("abort", () => {
      if (!j.abort)
        j.abort = {
          at: this.clock.now(),
          reason: String((abort.signal.reason as Error)?.message ?? "aborted"),
        };
    });
    this.state.ensure();
    const heartbeat = new Heartbeat(
      this.state.heartbeatPath,
      this.deps.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
    );
    heartbeat.start();
    if (this.deps.watchdog ?? true)
      spawnWatchdog(this.state, this.deps.heartbeatStaleMs ?? DEFAULT_HEARTBEAT_STALE_MS);
    const stopPoll = setInterval(() => {
      const flag = this.state.stopFlag();
      if (flag) onAbort(`emergency stop by ${flag.by}: ${flag.reason}`);
    }, STOP_POLL_INTERVAL_MS);
    let guardBusy = false;
    const guardTimer = exp.guards.probes.length
      ? setInterval(() => {
          if (guardBusy || abort.signal.aborted) return;
          guardBusy = true;
          void this.steadyState(exp.guards.probes, j.steady_states.baseline, abort.signal)
            .then((g) => {
              const bad = g.probes.find((p) => !p.ok);
              if (bad && !abort.signal.aborted) {
                this.deps.metrics?.safetyViolation("guard");
                onAbort(`guard ${bad.name} breached: ${bad.reason}`);
              }
            })
            .finally(() => (guardBusy = false));
        }, exp.guards.interval)
      : undefined;

    const applied: PlannedFault[] = [];
    let faultIndex = 0;
    let failed = false;
    let platformTimer: NodeJS.Timeout | undefined;
    let platformPoll: (() => Promise<void>) | undefined;
    const revertOne = async (f: PlannedFault) => {
      const t0 = this.clock.now();
      const errors = await this.executor.revert(f, runId);
      this.state.ledger.markReverted([f.id], this.clock.now(), `run ${runId}`, new Map([[f.id, errors]]));
      applied.splice(applied.indexOf(f), 1);
      const end = this.clock.now();
      j.run.push({
        type: "revert",
        name: f.name,
        status: errors.length ? "failed" : "succeeded",
        start: t0,
        end,
        duration: (end - t0) / 1000,
        ...(errors.length ? { error: errors.join("; ") } : {}),
      });
    };
    const startPlatformWatch = (at: number) => {
      const watcher = this.deps.watcher;
      if (!watcher || j.platform) return;
      j.platform = { first_fault_at: at };
      const poll = async () => {
        const p = j.platform;
        if (!p) return;
        try {
          const incs: WatchedIncident[] = await watcher.incidentsSince(at);
          const inc = incs
            .filter((i) => i.id === p.incident_id || !p.incident_id)
            .sort((a, b) => a.createdAt - b.createdAt)[0];
          if (!inc) return;
          p.incident_id = inc.id;
          p.detected_at = inc.detectedAt;
          p.incident_opened_at = inc.createdAt;
          p.time_to_detect_s = Math.max(0, (inc.detectedAt - at) / 1000);
          p.time_to_open_s = Math.max(0, (inc.createdAt - at) / 1000);
          const rec = inc.resolvedAt ?? inc.mitigatedAt;
          if (rec !== null) {
            p.recovered_at = rec;
            p.time_to_recover_s = Math.max(0, (rec - at) / 1000);
          }
        } catch (e) {
          p.error = (e as Error).message;
        }
      };
      platformTimer = setInterval(() => void poll(), PLATFORM_POLL_MS);
      platformPoll = poll;
    };

    try {
      for (const step of exp.method) {
        if (abort.signal.aborted) break;
        const t0 = this.clock.now();
        const push = (s: Omit<JournalStep, "start" | "end" | "duration">) => {
          const end = this.clock.now();
          j.run.push({ ...s, start: t0, end, duration: (end - t0) / 1000 });
        };
        if ("wait" in step) {
          await sleep(step.wait, abort.signal);
          push({
            type: "wait",
            name: `wait ${step.wait}ms`,
            status: abort.signal.aborted ? "skipped" : "succeeded",
          });
        } else if ("probe" in step) {
          const s = await this.steadyState([step.probe], j.steady_states.baseline, abort.signal);
          const r = s.probes[0] as ProbeRecord;
          push({
            type: "probe",
            name: step.probe.name,
            status: r.ok ? "succeeded" : "failed",
            detail: { value: r.value, output: r.output },
            ...(r.reason ? { error: r.reason } : {}),
          });
        } else if ("action" in step) {
          const out = await runProbe(step.action, abort.signal);
          const ok =
            !out.error &&
            (out.exit_code === undefined || out.exit_code === 0) &&
            (out.status === undefined || out.status < 400);
          push({ type: "action", name: step.action.name, status: ok ? "succeeded" : "failed", detail: out });
        } else {
          const f = faults[faultIndex++] as PlannedFault;
          // Ledger first: if we die between these two lines, the revert of something not applied is harmless.
          this.state.ledger.record({
            id: f.id,
            runId,
            fault: f.name,
            target: f.targets.join(","),
            revert: f.revert,
            appliedAt: this.clock.now(),
            pid: process.pid,
          });
          applied.push(f);
          const errors = await this.executor.apply(f, runId);
          startPlatformWatch(t0);
          this.say(
            `applied ${f.name} (${f.type}) on ${f.targets.join(", ")}${errors.length ? ` with errors: ${errors.join("; ")}` : ""}`,
          );
          push({
            type: "fault",
            name: f.name,
            status: errors.length ? "failed" : "succeeded",
            detail: { type: f.type, targets: f.targets },
            ...(errors.length ? { error: errors.join("; ") } : {}),
          });
          if (errors.length) {
            failed = true;
            onAbort(`fault ${f.name} failed to apply`);
            break;
          }
          if (f.durationMs !== undefined) {
            await sleep(f.durationMs, abort.signal);
            if (applied.includes(f)) await revertOne(f);
          }
        }
      }
    } catch (e) {
      failed = true;
      onAbort(`engine error: ${(e as Error).message}`);
    } finally {
      clearInterval(guardTimer);
      clearInterval(stopPoll);
      // Revert in reverse order of application: what was layered last comes off first.
      for (const f of [...applied].reverse()) await revertOne(f);
      j.recovery.reverted_at = this.clock.now();
    }

    for (const rb of exp.rollbacks) {
      const t0 = this.clock.now();
      const out = await runProbe(rb);
      const end = this.clock.now();
      const ok =
        !out.error &&
        (out.exit_code === undefined || out.exit_code === 0) &&
        (out.status === undefined || out.status < 400);
      j.rollbacks.push({
        type: "rollback",
        name: rb.name,
        status: ok ? "succeeded" : "failed",
        start: t0,
        end,
        duration: (end - t0) / 1000,
        detail: out,
      });
    }

    // Recovery: how long after the revert until the hypothesis holds again.
    // Waiting uses real time; the injected clock only stamps the journal (a test's clock may stand still).
    const deadline = Date.now() + exp.recovery_timeout;
    let after = await this.steadyState(exp.steady_state.probes, j.steady_states.baseline);
    while (!after.met && Date.now() < deadline && !this.state.stopFlag()) {
      await sleep(DEFAULT_RECOVERY_POLL_MS);
      after = await this.steadyState(exp.steady_state.probes, j.steady_states.baseline);
    }
    j.steady_states.after = after;
    if (after.met && j.recovery.reverted_at !== undefined) {
      j.recovery.steady_at = this.clock.now();
      j.recovery.recovery_time_s = (j.recovery.steady_at - j.recovery.reverted_at) / 1000;
      this.deps.metrics?.recoveryTime(j.recovery.recovery_time_s);
    }
    const poll = platformPoll;
    if (poll) {
      const until = Date.now() + exp.platform_wait;
      await poll();
      while (j.platform && j.platform.recovered_at === undefined && Date.now() < until) {
        await sleep(PLATFORM_POLL_MS);
        await poll();
      }
    }
    clearInterval(platformTimer);
    heartbeat.stop();
    this.running = false;
    this.active.delete(abort);
    await cleanupProxies();
    j.deviated = !after.met;
    return finish(failed ? "failed" : j.abort ? "aborted" : j.deviated ? "deviated" : "completed");
  }
}
