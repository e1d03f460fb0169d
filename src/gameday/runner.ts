import type { Incident, StoredAlert } from "../incidents/index.js";
import type { LoopEvent } from "../loop/index.js";
import type { Execution } from "../runbooks/index.js";
import type { InstanceHealth, ShopControl } from "../demo/index.js";
import { injectFault, type InjectedFault } from "./faults.js";
import type { Scenario } from "./scenario.js";
import type { GameDayReport, ScenarioResult } from "./report.js";
import { summarize } from "./report.js";

/** How long the shop must be healthy, with no open incident, before the next fault (ms). */
export const DEFAULT_SETTLE_MS = 20_000;
/** How long the runner waits for the shop to become steady before giving up on a scenario (ms). */
export const DEFAULT_STEADY_TIMEOUT_MS = 3 * 60_000;
/** After the runner removes a fault itself, the shop must be healthy again within this (ms). */
export const REVERT_HEALTHY_TIMEOUT_MS = 60_000;
const POLL_MS = 250;
const QUIET_PROGRESS_MS = 30_000;

/** What the runner reads of the platform (app.ts's App provides all of it). */
export interface GameDayPlatform {
  now(): number;
  /** Incidents created at or after `t`, oldest first. */
  incidentsSince(t: number): Promise<Incident[]>;
  onLoopEvent(listener: (e: LoopEvent) => void): () => void;
  execution(id: string): Promise<Execution | undefined>;
  /** The alerts grouped into an incident (to say what keeps one open). */
  alerts(incidentId: string): Promise<StoredAlert[]>;
  /** Resolves an incident as the game day's operator (after removing a fault the platform did not). */
  resolve(id: string, note: string): Promise<void>;
}

export type GameDayProgress =
  | { type: "quiet"; elapsedMs: number; totalMs: number; incidents: number }
  | { type: "steady"; scenario: Scenario; index: number; waitedMs: number }
  | { type: "injected"; scenario: Scenario; index: number; description: string }
  | { type: "detected"; scenario: Scenario; index: number; seconds: number; incident: Incident }
  | {
      type: "diagnosed";
      scenario: Scenario;
      index: number;
      seconds: number;
      service: string | null;
      right: boolean;
    }
  | {
      type: "remediation";
      scenario: Scenario;
      index: number;
      seconds: number;
      runbook: string;
      status: string;
    }
  | { type: "waiting"; scenario: Scenario; index: number; seconds: number; stage: string }
  | { type: "done"; scenario: Scenario; index: number; result: ScenarioResult };

export interface GameDayOptions {
  scenarios: Scenario[];
  /** Fault-free period measured for false incidents before the first fault (ms); 0 skips it. */
  quietMs: number;
  settleMs?: number;
  steadyTimeoutMs?: number;
  onProgress?: (e: GameDayProgress) => void;
  signal?: AbortSignal;
  /** Pause between polls (ms); tests only. */
  pollMs?: number;
}

const OPEN: readonly string[] = ["triggered", "acknowledged", "mitigated"];

export class GameDayAborted extends Error {
  constructor() {
    super("game day stopped");
    this.name = "GameDayAborted";
  }
}

/**
 * Runs a game day against the demo shop under the platform's watch: a fault-free period (false
 * incidents), then each scenario in turn: wait until steady, inject, watch the platform detect, rank,
 * remediate and recover, remove the fault, and record the times. Every fault is removed before the next
 * begins, also when the platform did not repair it, and on abort.
 */
export async function runGameDay(
  shop: ShopControl,
  platform: GameDayPlatform,
  opts: GameDayOptions,
): Promise<GameDayReport> {
  const poll = opts.pollMs ?? POLL_MS;
  const settle = opts.settleMs ?? DEFAULT_SETTLE_MS;
  const progress = opts.onProgress ?? (() => undefined);
  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new GameDayAborted());
      const t = setTimeout(() => {
        opts.signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => (clearTimeout(t), reject(new GameDayAborted()));
      opts.signal?.addEventListener("abort", onAbort, { once: true });
    });
  const events: { at: number; e: LoopEvent }[] = [];
  const unsubscribe = platform.onLoopEvent((e) => events.push({ at: platform.now(), e }));
  const started = platform.now();
  const violations: string[] = [];
  const results: ScenarioResult[] = [];
  let falseIncidents = 0;
  let active: InjectedFault | undefined;

  const shopHealthy = async () => {
    const h = await shop.health();
    return h.length > 0 && h.every(instanceWell);
  };
  const openIncidents = async (since: number) =>
    (await platform.incidentsSince(since)).filter((i) => OPEN.includes(i.status));
  const whyNotRecovered = async (fault: InjectedFault, since: number): Promise<string[]> => {
    const why: string[] = [];
    const open = await openIncidents(since);
    for (const i of open) {
      const firing = (await platform.alerts(i.id)).filter((a) => a.status === "firing");
      const names = firing.map(
        (a) => `${a.labels["alertname"] ?? a.fingerprint}{${describeLabels(a.labels)}}`,
      );
      why.push(`still open: ${i.id} (${i.status}), firing: ${names.join(", ") || "none"}`);
    }
    if (!(await fault.cleared())) why.push("the fault was still in place");
    const sick = (await shop.health()).filter((i) => !instanceWell(i));
    if (sick.length)
      why.push(
        `not healthy: ${sick.map((i) => `${i.service}#${i.index} ${i.state}${i.reason ? ` (${i.reason})` : ""}`).join(", ")}`,
      );
    return why;
  };

  try {
    // The fault-free period: anything opened now is a false incident, any remediation a violation.
    if (opts.quietMs > 0) {
      const from = platform.now();
      const firstEvent = events.length;
      let told = 0;
      while (platform.now() - from < opts.quietMs) {
        await sleep(Math.min(5_000, opts.quietMs - (platform.now() - from)));
        const n = (await platform.incidentsSince(from)).length;
        const elapsed = platform.now() - from;
        // A line every 30 s, and at once when an incident opens.
        if (n !== falseIncidents || elapsed - told >= QUIET_PROGRESS_MS || elapsed >= opts.quietMs) {
          told = elapsed;
          progress({ type: "quiet", elapsedMs: elapsed, totalMs: opts.quietMs, incidents: n });
        }
        falseIncidents = n;
      }
      for (const { e } of events.slice(firstEvent))
        if (e.type === "remediation" && e.result.status === "started")
          violations.push(`remediation ${e.runbook} ran during the fault-free period`);
    }

    for (const [index, s] of opts.scenarios.entries()) {
      // Steady: the shop healthy and no incident open, continuously for the settle time.
      const waitFrom = platform.now();
      let steadySince: number | undefined;
      for (;;) {
        const ok = (await shopHealthy()) && (await openIncidents(started)).length === 0;
        if (ok) steadySince ??= platform.now();
        else steadySince = undefined;
        if (steadySince !== undefined && platform.now() - steadySince >= settle) break;
        if (platform.now() - waitFrom > (opts.steadyTimeoutMs ?? DEFAULT_STEADY_TIMEOUT_MS)) break;
        await sleep(poll * 4);
      }
      progress({ type: "steady", scenario: s, index, waitedMs: platform.now() - waitFrom });

      const firstEvent = events.length;
      const t0 = platform.now();
      const secs = (t: number) => Math.round((t - t0) / 100) / 10;
      active = await injectFault(shop, s);
      progress({ type: "injected", scenario: s, index, description: active.description });

      let incident: Incident | undefined;
      let diagnosed: { service: string | null; s: number } | undefined;
      let recoveredAt: number | undefined;
      const executions = new Map<string, string>();
      let lastWaitNote = t0;
      while (platform.now() - t0 < s.durationMs) {
        await sleep(poll);
        if (!incident) {
          incident = (await platform.incidentsSince(t0))[0];
          if (incident)
            progress({ type: "detected", scenario: s, index, seconds: secs(incident.createdAt), incident });
        }
        for (const { at, e } of events.slice(firstEvent)) {
          // Any incident since the injection is this fault's: an alert that flapped may have opened a second.
          if (!incident) continue;
          if (e.type === "diagnosed" && !diagnosed) {
            const service = e.diagnosis.candidates[0]?.service ?? null;
            diagnosed = { service, s: secs(at) };
            progress({
              type: "diagnosed",
              scenario: s,
              index,
              seconds: diagnosed.s,
              service,
              right: service === s.expect.rootCause,
            });
          }
          if (
            e.type === "remediation" &&
            e.result.status === "started" &&
            !executions.has(e.result.executionId)
          ) {
            executions.set(e.result.executionId, e.runbook);
            progress({
              type: "remediation",
              scenario: s,
              index,
              seconds: secs(at),
              runbook: `${e.runbook} on ${e.target}`,
              status: "started",
            });
          }
          if (e.type === "remediation" && e.result.status === "held" && !executions.has(`held:${at}`)) {
            executions.set(`held:${at}`, e.runbook);
            progress({
              type: "remediation",
              scenario: s,
              index,
              seconds: secs(at),
              runbook: `${e.runbook} on ${e.target}`,
              status: `held: ${e.result.message}`,
            });
          }
        }
        // Recovered: the platform closed its incident, the fault's cause is gone, and the shop is healthy.
        if (incident) {
          const open = await openIncidents(t0);
          if (open.length === 0 && (await active.cleared()) && (await shopHealthy())) {
            recoveredAt = platform.now();
            break;
          }
        }
        if (platform.now() - lastWaitNote >= 10_000) {
          lastWaitNote = platform.now();
          const stage = !incident ? "detection" : !diagnosed ? "diagnosis" : "recovery";
          progress({ type: "waiting", scenario: s, index, seconds: secs(platform.now()), stage });
        }
      }

      let automatic = false;
      const runbooks: string[] = [];
      const runs: string[] = [];
      for (const [id, name] of executions) {
        if (id.startsWith("held:")) continue;
        runbooks.push(name);
        const e = await platform.execution(id);
        if (e?.status === "succeeded") automatic = true;
        runs.push(`${name} ${e?.status ?? "unknown"}${e?.error ? ` (${e.error})` : ""}`);
      }
      const recovered = recoveredAt !== undefined;
      const notes: string[] = [];
      if (!incident) notes.push("no incident opened");
      // A scenario that did not recover says which of the three conditions held it back, before the fault goes.
      if (!recovered) notes.push(...(await whyNotRecovered(active, t0)), ...runs.map((r) => `run: ${r}`));
      if (!recovered)
        notes.push(`not recovered within ${s.durationMs / 1000} s; the runner removed the fault`);
      // The fault goes whatever happened: a game day never leaves one behind.
      const fault = active;
      active = undefined;
      try {
        await fault.revert();
      } catch (err) {
        violations.push(`${s.name}: removing the fault failed: ${(err as Error).message}`);
      }
      if (!recovered) {
        const until = platform.now() + REVERT_HEALTHY_TIMEOUT_MS;
        while (!(await shopHealthy()) && platform.now() < until) await sleep(poll * 4);
        if (!(await shopHealthy()))
          violations.push(`${s.name}: the shop was not healthy after the fault was removed`);
        // What automation left open (a page, say) is closed by the operator who removed the fault.
        for (const i of await openIncidents(t0))
          await platform.resolve(i.id, `game day: scenario "${s.name}" ended; the runner removed the fault`);
      }
      const result: ScenarioResult = {
        name: s.name,
        target: s.target,
        fault: s.fault,
        severity: s.expect.severity,
        expected_root_cause: s.expect.rootCause,
        detected: incident !== undefined,
        detect_s: incident ? secs(incident.createdAt) : null,
        incident: incident?.id ?? null,
        diagnosed_service: diagnosed?.service ?? null,
        diagnosed_right: diagnosed?.service === s.expect.rootCause,
        diagnose_s: diagnosed?.s ?? null,
        recovered,
        recover_s: recoveredAt !== undefined ? secs(recoveredAt) : null,
        automatic: recovered && automatic,
        runbooks,
        notes,
      };
      results.push(result);
      progress({ type: "done", scenario: s, index, result });
    }
  } finally {
    unsubscribe();
    if (active) await active.revert().catch(() => undefined);
  }

  const finished = platform.now();
  return {
    started: new Date(started).toISOString(),
    finished: new Date(finished).toISOString(),
    quiet_minutes: opts.quietMs / 60_000,
    scenarios: results,
    false_incidents: falseIncidents,
    safety_violations: violations.length,
    violations,
    summary: summarize(results, falseIncidents, violations.length),
  };
}

/** Running, passing its health check and ready: what "the shop is healthy" means for every instance. */
function instanceWell(i: InstanceHealth): boolean {
  return i.state === "running" && i.healthy && i.ready;
}

/** The labels that tell alerts apart in a note (the name is said first). */
function describeLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .filter(([k]) => k !== "alertname")
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");
}
