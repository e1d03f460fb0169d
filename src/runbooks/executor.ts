import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import {
  AuthError,
  ConflictError,
  ErrorCode,
  NotFoundError,
  NovaError,
  ValidationError,
  newId,
  type Clock,
  type Logger,
} from "../core/index.js";
import type { ActionProvider } from "../providers/index.js";
import type { RunbooksConfig } from "./config.js";
import type { RunbookMetrics } from "./metrics.js";
import { MAX_STEPS_PER_EXECUTION } from "./config.js";
import { evalCondition, type Scope } from "./expr.js";
import {
  ACTIVE_STATUSES,
  type AuditEntry,
  type AuditEvent,
  type Execution,
  type ExecutionMode,
  type ExecutionStore,
  type StepResult,
} from "./model.js";
import {
  canonicalJson,
  contextOf,
  maskDeep,
  planHash,
  renderAction,
  renderPlan,
  renderStep,
  renderStr,
  renderTarget,
  resolveParams,
  scopeOf,
  sha256,
  type Plan,
  type RenderedAction,
  type RenderedProbe,
  type SecretSource,
} from "./render.js";
import { runCommand, runHttp, statusExpected, tcpProbe } from "./runners.js";
import { isIdempotent, type Runbook, type Step } from "./schema.js";

/** Longest string kept in an audit record's data; hostile labels can be megabytes. */
export const AUDIT_VALUE_LIMIT_CHARS = 2_000;
/** How long the kill switch setting is trusted before it is read again (ms); other replicas see a halt within this. */
export const HALT_CACHE_MS = 1_000;
export const HALT_SETTING = "runbooks.halt";

export type Role = "viewer" | "operator" | "admin";
export const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export interface HaltState {
  halted: boolean;
  by: string;
  reason: string;
  at: number;
}

/** The slice of the settings store the kill switch needs. */
export interface KillSwitchStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, now: number): Promise<void>;
}

export interface ExecutorDeps {
  store: ExecutionStore;
  settings: KillSwitchStore;
  clock: Clock;
  logger: Logger;
  config: RunbooksConfig;
  secrets: SecretSource;
  providers?: readonly ActionProvider[];
  /** Answers a metric-query probe (PromQL); undefined when no metric source is configured. */
  metricQuery?: (query: string) => Promise<number | undefined>;
  /** Pages a human: storm breaker, interrupted executions, failed verifications. */
  notify?: (event: { kind: string; message: string; executionId: string | null }) => void;
  /** Runbook names the storm breaker and rate limit neither count nor limit (chaos fault injection). */
  limitExempt?: readonly string[];
  metrics?: RunbookMetrics;
  /** Called after an execution reaches a terminal status (learning, verification). */
  onFinished?: (e: Execution) => void;
  /** Environment command steps inherit from (only a few variables; see runners.ts). */
  env?: NodeJS.ProcessEnv;
  /** Waits; injectable so tests do not sleep for real. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface StartRequest {
  runbook: Runbook;
  baseDir: string | null;
  params: Record<string, unknown>;
  incident?: { id: string; labels: Record<string, string> } | undefined;
  actor: string;
  reason?: string;
  mode?: ExecutionMode;
}

function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Cuts long strings inside audit data so one hostile value cannot bloat the trail. */
export function clip(v: unknown, limit = AUDIT_VALUE_LIMIT_CHARS): unknown {
  if (typeof v === "string")
    return v.length > limit ? `${v.slice(0, limit)}...[${v.length - limit} more chars]` : v;
  if (Array.isArray(v)) return v.map((x) => clip(x, limit));
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = clip(x, limit);
    return o;
  }
  return v;
}

function isTerminal(e: Execution): boolean {
  return !ACTIVE_STATUSES.includes(e.status);
}

/**
 * The one executor: every change to a running system passes through here. Executions are persisted
 * state machines; each transition is saved with its audit records before anything else happens, so a
 * crash loses nothing (see `recover`). Guards run before an execution is created; refusals are audited.
 */
export class RunbookExecutor {
  readonly owner = `${hostname()}:${process.pid}:${newId("rbx").slice(4, 14)}`;
  private readonly live = new Map<string, Execution>();
  private readonly secretsOf = new Map<string, Record<string, string>>();
  private readonly aborts = new Map<string, AbortController>();
  private readonly abortRequested = new Map<string, string>();
  private readonly targets = new Map<string, string>();
  private readonly queue: string[] = [];
  private readonly loops = new Set<Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly providers = new Map<string, ActionProvider>();
  private running = 0;
  private readonly shutdown = new AbortController();
  private startChain: Promise<unknown> = Promise.resolve();
  private halt: { state: HaltState | undefined; readAt: number } = { state: undefined, readAt: -Infinity };
  private leaseTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(private readonly deps: ExecutorDeps) {
    // Every running step listens for shutdown; thousands may run at once.
    setMaxListeners(0, this.shutdown.signal);
    for (const p of deps.providers ?? []) this.providers.set(p.name, p);
    this.sleep = deps.sleep ?? realSleep;
  }

  // ---------- kill switch ----------

  async haltState(): Promise<HaltState | undefined> {
    const now = this.deps.clock.now();
    if (now - this.halt.readAt > HALT_CACHE_MS || this.halt.readAt > now) {
      const s = await this.deps.settings.get<HaltState>(HALT_SETTING);
      this.halt = { state: s?.halted ? s : undefined, readAt: now };
    }
    return this.halt.state;
  }

  async setHalt(halted: boolean, actor: string, reason: string): Promise<HaltState> {
    const now = this.deps.clock.now();
    const state: HaltState = { halted, by: actor, reason, at: now };
    await this.deps.settings.set(HALT_SETTING, state, now);
    this.halt = { state: halted ? state : undefined, readAt: now };
    await this.deps.store.appendAudit([
      {
        executionId: null,
        at: now,
        actor,
        event: halted ? "halt" : "resume",
        stepId: null,
        attempt: null,
        data: { reason },
      },
    ]);
    if (halted) for (const c of this.aborts.values()) c.abort();
    return state;
  }

  // ---------- planning ----------

  /** Renders the exact plan and runs nothing. The attempt is audited. */
  async dryRun(
    req: Omit<StartRequest, "mode">,
  ): Promise<{ plan: Plan; planHash: string; problems: string[] }> {
    const { params, problems } = resolveParams(req.runbook, req.params);
    const labels = req.incident?.labels ?? {};
    const plan = renderPlan(
      req.runbook,
      {
        params,
        incident: { id: req.incident?.id ?? null, labels },
        target: problems.length ? null : renderTarget(req.runbook, params, labels),
      },
      req.baseDir,
    );
    await this.deps.store.appendAudit([
      this.audit(null, req.actor, "dry_run", null, null, {
        runbook: req.runbook.name,
        params: req.params,
        problems,
      }),
    ]);
    return { plan, planHash: planHash(plan), problems };
  }

  // ---------- starting ----------

  /** Validates, applies the guards, persists a pending execution and schedules it. Throws when refused. */
  start(req: StartRequest): Promise<Execution> {
    // Guards read then write (counts, target locks); one start at a time keeps them exact in this process.
    const run = this.startChain.then(() => this.startNow(req));
    this.startChain = run.catch(() => undefined);
    return run;
  }

  private async startNow(req: StartRequest): Promise<Execution> {
    if (this.closed)
      throw new NovaError(ErrorCode.Unavailable, "executor is shutting down", { retryable: true });
    const { clock, store, config } = this.deps;
    const now = clock.now();
    const mode = req.mode ?? "live";
    const rb = req.runbook;
    const refuse = async (err: NovaError, data: Record<string, unknown> = {}): Promise<never> => {
      this.deps.metrics?.refused(rb.name, err.code);
      await store.appendAudit([
        this.audit(null, req.actor, "execution.refused", null, null, {
          runbook: rb.name,
          reason: err.message,
          params: req.params,
          incident: req.incident?.id ?? null,
          ...data,
        }),
      ]);
      throw err;
    };

    const { params, problems } = resolveParams(rb, req.params);
    if (problems.length)
      return refuse(
        new ValidationError(
          `runbook ${rb.name}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""}`,
          problems.map((message) => ({ path: "params", message })),
        ),
      );
    if (rb.draft && mode === "live")
      return refuse(
        new ValidationError(`runbook ${rb.name} is a draft: it may be dry-run or shadowed, not run live`),
      );

    const labels = req.incident?.labels ?? {};
    let target: string | null;
    let plan: Plan;
    try {
      target = renderTarget(rb, params, labels);
      plan = renderPlan(
        rb,
        { params, incident: { id: req.incident?.id ?? null, labels }, target },
        req.baseDir,
      );
    } catch (e) {
      return refuse(new ValidationError(`runbook ${rb.name}: ${(e as Error).message}`));
    }
    const bad = plan.steps.find((s) => s.step.kind === "error");
    if (bad && bad.step.kind === "error")
      return refuse(new ValidationError(`step ${bad.step.id}: ${bad.step.error}`));

    const secrets: Record<string, string> = {};
    for (const [name, ref] of Object.entries(rb.secrets)) {
      const v = this.deps.secrets.resolve(ref);
      if (v === undefined)
        return refuse(
          new ValidationError(
            `secret ${name} is not available (${"env" in ref ? `env ${ref.env}` : `file ${ref.file}`})`,
          ),
        );
      secrets[name] = v;
    }

    if (mode === "live") {
      const h = await this.haltState();
      if (h)
        return refuse(new NovaError(ErrorCode.Unavailable, `automation is halted by ${h.by}: ${h.reason}`));
      // Runbooks exempt from the limits (chaos fault injection) are neither counted nor limited: a chaos
      // experiment must not trip the breaker that guards remediation, nor be throttled like one.
      const exempt = this.deps.limitExempt ?? [];
      const stormSince = now - config.storm.window;
      const total = exempt.includes(rb.name) ? 0 : await store.countSince(null, stormSince, exempt);
      if (total >= config.storm.max) {
        await this.setHalt(
          true,
          "system:storm-breaker",
          `${total} executions within ${config.storm.window} ms`,
        );
        await store.appendAudit([
          this.audit(null, "system", "storm_breaker", null, null, {
            executions: total,
            windowMs: config.storm.window,
          }),
        ]);
        this.deps.notify?.({
          kind: "storm_breaker",
          message: `storm breaker tripped: ${total} runbook executions within ${Math.round(config.storm.window / 1000)}s; automation halted`,
          executionId: null,
        });
        return refuse(new NovaError(ErrorCode.Unavailable, "storm breaker tripped: automation halted"));
      }
      const perRunbook = exempt.includes(rb.name)
        ? 0
        : await store.countSince(rb.name, now - config.rate.window);
      if (perRunbook >= config.rate.max)
        return refuse(
          new NovaError(
            ErrorCode.RateLimited,
            `runbook ${rb.name} ran ${perRunbook} times within ${config.rate.window} ms (limit ${config.rate.max})`,
          ),
        );
      if (target !== null) {
        const holder =
          this.targets.get(target) ??
          (await store.list({ status: ACTIVE_STATUSES, target, limit: 1 }))[0]?.id;
        if (holder) return refuse(new ConflictError(`target ${target} is busy with execution ${holder}`));
        const last = await store.lastFinishedOn(target);
        if (last !== null && now - last < config.target_cooldown)
          return refuse(
            new NovaError(
              ErrorCode.RateLimited,
              `target ${target} is cooling down for ${Math.ceil((config.target_cooldown - (now - last)) / 1000)}s more`,
            ),
          );
      }
    }

    const exec: Execution = {
      id: newId("rbe", now),
      runbook: rb,
      runbookHash: sha256(canonicalJson(rb)),
      baseDir: req.baseDir,
      params,
      target,
      mode,
      status: "pending",
      cursor: 0,
      stepsRun: 0,
      results: {},
      rollbackStack: [],
      inFlight: null,
      waiting: null,
      planHash: planHash(plan),
      incidentId: req.incident?.id ?? null,
      incidentLabels: labels,
      requestedBy: req.actor,
      reason: req.reason ?? "",
      error: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
      leaseOwner: this.owner,
      leaseUntil: now + config.lease,
    };
    if (target !== null && mode === "live") this.targets.set(target, exec.id);
    await store.insert(exec, [
      this.audit(exec.id, req.actor, "execution.requested", null, null, {
        runbook: rb.name,
        runbookHash: exec.runbookHash,
        params,
        target,
        mode,
        planHash: exec.planHash,
        incident: exec.incidentId,
        reason: exec.reason,
      }),
    ]);
    this.secretsOf.set(exec.id, secrets);
    this.live.set(exec.id, exec);
    this.ensureLeaseTimer();
    this.enqueue(exec.id);
    return structuredClone(exec);
  }

  // ---------- scheduling ----------

  private enqueue(id: string): void {
    this.queue.push(id);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.deps.config.max_concurrent && this.queue.length && !this.closed) {
      const id = this.queue.shift() as string;
      const e = this.live.get(id);
      if (!e || isTerminal(e)) continue;
      this.running++;
      const p = this.loop(e)
        .catch(async (err: unknown) => {
          // A bug, not an expected failure: stop the execution visibly rather than leave it "running".
          this.deps.logger.error({ err, execution: id }, "runbook loop crashed");
          await this.finish(e, "failed", `internal error: ${(err as Error).message}`).catch(() => undefined);
        })
        .finally(() => {
          this.running--;
          this.loops.delete(p);
          this.pump();
        });
      this.loops.add(p);
    }
  }

  /** Resolves when no execution is running steps or queued (waiting ones do not count). */
  async idle(): Promise<void> {
    while (this.loops.size || (this.queue.length && !this.closed)) await Promise.all([...this.loops]);
  }

  // ---------- the state machine ----------

  private audit(
    executionId: string | null,
    actor: string,
    event: AuditEvent,
    stepId: string | null,
    attempt: number | null,
    data: Record<string, unknown>,
  ): AuditEntry {
    const secrets = executionId ? Object.values(this.secretsOf.get(executionId) ?? {}) : [];
    return {
      executionId,
      at: this.deps.clock.now(),
      actor,
      event,
      stepId,
      attempt,
      data: clip(maskDeep(data, secrets)) as Record<string, unknown>,
    };
  }

  /** Takes over an execution this process does not hold (another replica's, or one loaded after a restart). */
  private claimForeign(id: string): Promise<boolean> {
    const now = this.deps.clock.now();
    return this.deps.store.claim(id, this.owner, now + this.deps.config.lease, now, null);
  }

  private async save(e: Execution, audit: AuditEntry[]): Promise<void> {
    e.updatedAt = this.deps.clock.now();
    await this.deps.store.save(e, audit);
  }

  private scope(e: Execution): Scope {
    return scopeOf(contextOf(e, this.secretsOf.get(e.id) ?? {}));
  }

  private mask<T>(e: Execution, v: T): T {
    return maskDeep(v, Object.values(this.secretsOf.get(e.id) ?? {}));
  }

  private async loop(e: Execution): Promise<void> {
    const steps = e.runbook.steps;
    if (e.status === "pending") {
      e.status = "running";
      await this.save(e, [
        this.audit(e.id, "system", "execution.started", null, null, { mode: e.mode, owner: this.owner }),
      ]);
    }
    while (e.status === "running") {
      // Shutting down: stop at a step boundary and leave the execution to the next start (see close()).
      if (this.closed) return;
      const why =
        this.abortRequested.get(e.id) ??
        (e.mode === "live" && (await this.haltState()) ? "automation halted" : undefined);
      if (why !== undefined) {
        await this.finish(e, "aborted", why);
        return;
      }
      if (e.cursor >= steps.length) {
        await this.finish(e, "succeeded", null);
        return;
      }
      const step = steps[e.cursor] as Step;
      if (++e.stepsRun > MAX_STEPS_PER_EXECUTION) {
        await this.finish(
          e,
          "failed",
          `more than ${MAX_STEPS_PER_EXECUTION} steps started; a decision loop?`,
        );
        return;
      }
      let scope = this.scope(e);
      let runIt: boolean;
      try {
        runIt = step.when === undefined || evalCondition(step.when, scope);
      } catch (err) {
        await this.stepFailed(e, step, `when: ${(err as Error).message}`, 1);
        continue;
      }
      if (!runIt) {
        e.results[step.id] = { status: "skipped" };
        e.cursor++;
        await this.save(e, [this.audit(e.id, "system", "step.skipped", step.id, null, { when: step.when })]);
        continue;
      }
      if (e.mode === "shadow") {
        await this.shadowStep(e, step);
        continue;
      }
      if (step.kind === "approval" || step.kind === "manual") {
        const timeout = step.timeout;
        e.waiting = {
          kind: step.kind,
          stepId: step.id,
          deadline: this.deps.clock.now() + timeout,
          role: step.kind === "approval" ? (e.runbook.risk === "critical" ? "admin" : step.role) : "operator",
          message: renderStr(step.kind === "approval" ? (step.message ?? "") : step.instructions, scope),
        };
        e.status = step.kind === "approval" ? "waiting_approval" : "waiting_manual";
        await this.save(e, [
          this.audit(
            e.id,
            "system",
            step.kind === "approval" ? "approval.requested" : "step.started",
            step.id,
            1,
            {
              planHash: e.planHash,
              role: e.waiting.role,
              deadline: e.waiting.deadline,
              message: e.waiting.message,
            },
          ),
        ]);
        this.armDeadline(e);
        return;
      }
      if (step.kind === "decision") {
        let next: string | null = null;
        try {
          for (const b of step.branches)
            if (evalCondition(b.if, scope)) {
              next = b.goto;
              break;
            }
        } catch (err) {
          await this.stepFailed(e, step, `decision: ${(err as Error).message}`, 1);
          continue;
        }
        const chosen = next ?? step.else ?? null;
        e.results[step.id] = { status: "succeeded", value: chosen ?? "next" };
        e.cursor =
          chosen === null
            ? e.cursor + 1
            : chosen === "end"
              ? steps.length
              : steps.findIndex((s) => s.id === chosen);
        await this.save(e, [
          this.audit(e.id, "system", "step.finished", step.id, 1, {
            status: "succeeded",
            goto: chosen ?? "next",
          }),
        ]);
        continue;
      }

      const attempts = step.retry?.attempts ?? 1;
      let result: StepResult | undefined;
      const pendingAudit: AuditEntry[] = [];
      for (let attempt = 1; attempt <= attempts; attempt++) {
        scope = this.scope(e);
        e.inFlight = step.id;
        const startedAt = this.deps.clock.now();
        let rendered;
        try {
          rendered = renderStep(step, scope, e.baseDir);
        } catch (err) {
          result = { status: "failed", error: `render: ${(err as Error).message}`, attempts: attempt };
          break;
        }
        const started = this.audit(e.id, "system", "step.started", step.id, attempt, {
          rendered: this.auditView(rendered),
        });
        // Write-ahead only where a crash would leave the step ambiguous: an idempotent step is simply
        // run again after a crash, so its start record travels with its end record (one transaction).
        if (isIdempotent(step)) pendingAudit.push(started);
        else await this.save(e, [started]);
        const ac = new AbortController();
        this.aborts.set(e.id, ac);
        // On shutdown an idempotent step is cut short and left unrecorded: the next start runs it again.
        let suspended = false;
        const onShutdown = () => {
          if (!isIdempotent(step)) return;
          suspended = true;
          ac.abort();
        };
        this.shutdown.signal.addEventListener("abort", onShutdown, { once: true });
        const t0 = performance.now();
        try {
          result = await this.runRendered(e, rendered, ac.signal);
        } finally {
          this.aborts.delete(e.id);
          this.shutdown.signal.removeEventListener("abort", onShutdown);
        }
        if (suspended) return;
        this.deps.metrics?.step(step.kind, (performance.now() - t0) / 1000);
        result = this.mask(e, {
          ...result,
          attempts: attempt,
          started_at: startedAt,
          finished_at: this.deps.clock.now(),
        });
        if (result.status === "succeeded" || ac.signal.aborted || attempt === attempts) break;
        await this.save(e, [
          ...pendingAudit.splice(0),
          this.audit(e.id, "system", "step.finished", step.id, attempt, this.resultAudit(result)),
        ]);
        await this.sleep((step.retry?.backoff ?? 0) * 2 ** (attempt - 1), new AbortController().signal);
      }
      const r = result as StepResult;
      e.results[step.id] = r;
      e.inFlight = null;
      if (r.status === "succeeded") {
        if ("rollback" in step && step.rollback) e.rollbackStack.push(step.id);
        e.cursor++;
        await this.save(e, [
          ...pendingAudit.splice(0),
          this.audit(e.id, "system", "step.finished", step.id, r.attempts ?? 1, this.resultAudit(r)),
        ]);
      } else {
        await this.save(e, [
          ...pendingAudit.splice(0),
          this.audit(e.id, "system", "step.finished", step.id, r.attempts ?? 1, this.resultAudit(r)),
        ]);
        if (this.abortRequested.has(e.id) || (await this.haltState())) continue;
        await this.stepFailed(e, step, r.error ?? "failed", r.attempts ?? 1);
      }
    }
  }

  private auditView(r: unknown): unknown {
    return r;
  }

  private resultAudit(r: StepResult): Record<string, unknown> {
    return { ...r };
  }

  /** Applies the step's on_failure: continue, abort (fail without rollback) or rollback. */
  private async stepFailed(e: Execution, step: Step, error: string, attempt: number): Promise<void> {
    e.results[step.id] = { ...(e.results[step.id] ?? { status: "failed" }), status: "failed", error };
    e.inFlight = null;
    if (step.on_failure === "continue") {
      e.cursor++;
      await this.save(e, []);
      return;
    }
    const msg = `step ${step.id} failed: ${error}`;
    if (step.on_failure === "abort" || e.rollbackStack.length === 0) {
      await this.finish(e, "failed", msg);
      return;
    }
    void attempt;
    const ok = await this.rollback(e, null);
    await this.finish(e, ok ? "rolled_back" : "failed", ok ? msg : `${msg}; rollback failed too`);
  }

  /** Runs declared rollbacks of completed steps, newest first. Returns false if any failed. */
  private async rollback(e: Execution, extra: string | null): Promise<boolean> {
    const ids = [...e.rollbackStack].reverse();
    if (extra) ids.unshift(extra);
    await this.save(e, [this.audit(e.id, "system", "rollback.started", null, null, { steps: ids })]);
    let allOk = true;
    for (const id of ids) {
      const step = e.runbook.steps.find((s) => s.id === id);
      if (!step || !("rollback" in step) || !step.rollback) continue;
      let r: StepResult;
      try {
        const rendered = renderAction(step.rollback, this.scope(e), e.baseDir);
        await this.save(e, [this.audit(e.id, "system", "step.started", `${id}.rollback`, 1, { rendered })]);
        r = this.mask(e, await this.runRendered(e, rendered, new AbortController().signal));
      } catch (err) {
        r = { status: "failed", error: (err as Error).message };
      }
      e.results[`${id}.rollback`] = r;
      if (r.status !== "succeeded") allOk = false;
      e.rollbackStack = e.rollbackStack.filter((x) => x !== id);
      await this.save(e, [
        this.audit(e.id, "system", "step.finished", `${id}.rollback`, 1, this.resultAudit(r)),
      ]);
    }
    await this.save(e, [this.audit(e.id, "system", "rollback.finished", null, null, { ok: allOk })]);
    return allOk;
  }

  private async finish(e: Execution, status: Execution["status"], error: string | null): Promise<void> {
    e.status = status;
    e.error = error === null ? null : this.mask(e, error);
    e.waiting = null;
    e.inFlight = null;
    e.finishedAt = this.deps.clock.now();
    this.clearDeadline(e.id);
    await this.save(e, [
      this.audit(e.id, "system", "execution.finished", null, null, { status, error: e.error }),
    ]);
    this.release(e);
    this.deps.metrics?.finished(e.runbook.name, status, e.mode);
    if (status === "interrupted" || (status === "failed" && e.mode === "live"))
      this.deps.notify?.({
        kind: `execution_${status}`,
        message: `runbook ${e.runbook.name} ${status}${e.target ? ` on ${e.target}` : ""}: ${e.error ?? ""}`,
        executionId: e.id,
      });
    try {
      this.deps.onFinished?.(structuredClone(e));
    } catch (err) {
      this.deps.logger.error({ err }, "onFinished hook threw");
    }
  }

  private release(e: Execution): void {
    if (e.target !== null && this.targets.get(e.target) === e.id) this.targets.delete(e.target);
    this.live.delete(e.id);
    this.secretsOf.delete(e.id);
    this.abortRequested.delete(e.id);
  }

  private async shadowStep(e: Execution, step: Step): Promise<void> {
    const scope = this.scope(e);
    let rendered: unknown;
    try {
      rendered = renderStep(step, scope, e.baseDir);
    } catch (err) {
      rendered = { error: (err as Error).message };
    }
    let next = e.cursor + 1;
    if (step.kind === "decision") {
      let chosen: string | null = null;
      try {
        for (const b of step.branches)
          if (evalCondition(b.if, scope)) {
            chosen = b.goto;
            break;
          }
      } catch {
        chosen = null;
      }
      chosen = chosen ?? step.else ?? null;
      if (chosen === "end") next = e.runbook.steps.length;
      else if (chosen !== null) next = e.runbook.steps.findIndex((s) => s.id === chosen);
    }
    e.results[step.id] = { status: "shadow" };
    e.cursor = next;
    await this.save(e, [this.audit(e.id, "system", "step.shadow", step.id, null, { wouldRun: rendered })]);
  }

  private async runRendered(
    e: Execution,
    r: ReturnType<typeof renderStep> | RenderedAction,
    signal: AbortSignal,
  ): Promise<StepResult> {
    switch (r.kind) {
      case "command": {
        const o = await runCommand(r, signal, this.deps.env);
        const ok =
          o.error === null && !o.timedOut && o.exitCode !== null && r.expectExit.includes(o.exitCode);
        return {
          status: ok ? "succeeded" : "failed",
          exit_code: o.exitCode ?? -1,
          stdout: o.stdout,
          stderr: o.stderr,
          truncated: o.truncated,
          ...(ok
            ? {}
            : {
                error:
                  o.error ??
                  (o.timedOut
                    ? `timed out after ${r.timeoutMs} ms`
                    : o.signal
                      ? `killed by ${o.signal}`
                      : `exit code ${o.exitCode} not in ${JSON.stringify(r.expectExit)}`),
              }),
        };
      }
      case "http": {
        const o = await runHttp(r, signal);
        let json: unknown;
        try {
          json = o.body ? JSON.parse(o.body) : undefined;
        } catch {
          json = undefined;
        }
        const ok = o.status !== null && statusExpected(o.status, r.expectStatus);
        return {
          status: ok ? "succeeded" : "failed",
          http_status: o.status ?? 0,
          body: o.body,
          json,
          truncated: o.truncated,
          ...(ok ? {} : { error: o.error ?? `HTTP ${o.status}` }),
        };
      }
      case "action": {
        const p = this.providers.get(r.provider);
        if (!p) return { status: "failed", error: `no provider named ${r.provider}` };
        const res = await p.run({ verb: r.verb as "start", target: r.target, args: r.args, signal });
        return res.status === "ok"
          ? { status: "succeeded", stdout: res.value.message, json: res.value.data }
          : { status: "failed", error: res.error };
      }
      case "wait":
        await this.sleep(r.durationMs, signal);
        return signal.aborted ? { status: "failed", error: "aborted" } : { status: "succeeded" };
      case "validate":
        return this.validate(e, r.probe, r.deadlineMs, r.intervalMs, signal);
      default:
        return { status: "failed", error: `step kind ${r.kind} is not run here` };
    }
  }

  private async validate(
    e: Execution,
    probe: RenderedProbe,
    deadlineMs: number,
    intervalMs: number,
    signal: AbortSignal,
  ): Promise<StepResult> {
    const start = performance.now();
    let attempts = 0;
    let last = "";
    for (;;) {
      attempts++;
      last = await this.probeOnce(probe, e.params, signal);
      if (last === "") return { status: "succeeded", attempts, value: attempts };
      const left = deadlineMs - (performance.now() - start);
      if (signal.aborted || left <= 0)
        return { status: "failed", attempts, error: `probe did not pass within ${deadlineMs} ms: ${last}` };
      await this.sleep(Math.min(intervalMs, left), signal);
      void e;
    }
  }

  /** Runs one probe; "" when it passed, else why not. */
  private async probeOnce(
    p: RenderedProbe,
    params: Execution["params"],
    signal: AbortSignal,
  ): Promise<string> {
    if ("http" in p) {
      const o = await runHttp(p.http, signal);
      return o.status !== null && statusExpected(o.status, p.http.expectStatus)
        ? ""
        : (o.error ?? `HTTP ${o.status}`);
    }
    if ("tcp" in p) return (await tcpProbe(p.tcp.host, p.tcp.port, 5_000, signal)) ?? "";
    if ("command" in p) {
      const o = await runCommand(p.command, signal, this.deps.env);
      return o.exitCode !== null && p.command.expectExit.includes(o.exitCode)
        ? ""
        : (o.error ?? `exit code ${o.exitCode}`);
    }
    if (!this.deps.metricQuery) return "no metric source configured";
    const v = await this.deps.metricQuery(p.metric.query);
    if (v === undefined) return "query returned no value";
    return evalCondition(p.metric.expect, { value: v, params })
      ? ""
      : `value ${v} does not satisfy ${p.metric.expect}`;
  }

  // ---------- people ----------

  private async loadActive(id: string): Promise<Execution> {
    const e = this.live.get(id) ?? (await this.deps.store.get(id));
    if (!e) throw new NotFoundError("execution", id);
    return e;
  }

  /**
   * Approves or rejects a waiting approval. The approver must hold the role the step asks for, must echo
   * the plan hash they were shown, and (for critical runbooks) must not be the one who asked for the run.
   * Every attempt, refused ones too, is audited.
   */
  async decide(
    id: string,
    who: { actor: string; role: Role },
    planHashEcho: string,
    approve: boolean,
    comment = "",
  ): Promise<Execution> {
    const e = await this.loadActive(id);
    const refuse = async (err: NovaError): Promise<never> => {
      await this.deps.store.appendAudit([
        this.audit(e.id, who.actor, "approval.refused", e.waiting?.stepId ?? null, null, {
          reason: err.message,
          role: who.role,
          approve,
          planHash: planHashEcho,
        }),
      ]);
      throw err;
    };
    if (e.status !== "waiting_approval" || !e.waiting)
      return refuse(new ConflictError(`execution ${id} is ${e.status}, not waiting for approval`));
    if (ROLE_RANK[who.role] < ROLE_RANK[e.waiting.role])
      return refuse(
        new AuthError(
          ErrorCode.Forbidden,
          `approving this needs the ${e.waiting.role} role; you have ${who.role}`,
        ),
      );
    if (planHashEcho !== e.planHash)
      return refuse(
        new ValidationError(
          "plan hash does not match the plan awaiting approval; review the current plan and echo its hash",
        ),
      );
    if (e.runbook.risk === "critical" && who.actor === e.requestedBy)
      return refuse(new AuthError(ErrorCode.Forbidden, "critical runbooks need a second person to approve"));
    if (this.deps.clock.now() > e.waiting.deadline)
      return refuse(new ConflictError("the approval window has ended"));
    if (!this.live.has(id)) {
      // Another replica owns it, or it was loaded after a restart; take it over.
      if (!(await this.claimForeign(id)))
        return refuse(new ConflictError(`execution ${id} is owned by another replica`));
      await this.adopt(e);
    }
    const stepId = e.waiting.stepId;
    this.clearDeadline(id);
    e.waiting = null;
    if (approve) {
      e.results[stepId] = { status: "succeeded", actor: who.actor, note: comment };
      e.cursor++;
      e.status = "running";
      await this.save(e, [
        this.audit(e.id, who.actor, "approval.granted", stepId, 1, { planHash: planHashEcho, comment }),
      ]);
      this.enqueue(e.id);
    } else {
      e.status = "running";
      e.results[stepId] = {
        status: "failed",
        actor: who.actor,
        note: comment,
        error: `rejected by ${who.actor}`,
      };
      await this.save(e, [this.audit(e.id, who.actor, "approval.rejected", stepId, 1, { comment })]);
      const step = e.runbook.steps.find((s) => s.id === stepId) as Step;
      await this.stepFailed(e, step, `rejected by ${who.actor}${comment ? `: ${comment}` : ""}`, 1);
    }
    return structuredClone(e);
  }

  /** Records a manual task as done (or not) by an operator. */
  async completeManual(
    id: string,
    who: { actor: string; role: Role },
    done: boolean,
    note = "",
  ): Promise<Execution> {
    const e = await this.loadActive(id);
    if (e.status !== "waiting_manual" || !e.waiting || ROLE_RANK[who.role] < ROLE_RANK.operator) {
      const err =
        e.status !== "waiting_manual"
          ? new ConflictError(`execution ${id} is ${e.status}, not waiting for a manual task`)
          : new AuthError(ErrorCode.Forbidden, "manual tasks need the operator role");
      await this.deps.store.appendAudit([
        this.audit(e.id, who.actor, "manual.refused", e.waiting?.stepId ?? null, null, {
          reason: err.message,
          role: who.role,
        }),
      ]);
      throw err;
    }
    if (!this.live.has(id)) {
      if (!(await this.claimForeign(id)))
        throw new ConflictError(`execution ${id} is owned by another replica`);
      await this.adopt(e);
    }
    const stepId = e.waiting.stepId;
    this.clearDeadline(id);
    e.waiting = null;
    e.status = "running";
    e.results[stepId] = {
      status: done ? "succeeded" : "failed",
      actor: who.actor,
      note,
      ...(done ? {} : { error: `not done: ${note}` }),
    };
    await this.save(e, [this.audit(e.id, who.actor, "manual.completed", stepId, 1, { done, note })]);
    if (done) {
      e.cursor++;
      this.enqueue(e.id);
    } else
      await this.stepFailed(
        e,
        e.runbook.steps.find((s) => s.id === stepId) as Step,
        `manual task not done: ${note}`,
        1,
      );
    return structuredClone(e);
  }

  /** Stops an execution at once (the running step is killed); with rollback, undoes completed steps. */
  async abort(id: string, actor: string, withRollback = false): Promise<Execution> {
    const e = await this.loadActive(id);
    if (isTerminal(e)) throw new ConflictError(`execution ${id} already ${e.status}`);
    await this.deps.store.appendAudit([
      this.audit(id, actor, "execution.abort_requested", null, null, { rollback: withRollback }),
    ]);
    const reason = `aborted by ${actor}`;
    const queued = this.queue.indexOf(id);
    if (queued >= 0) this.queue.splice(queued, 1);
    if (this.live.has(id) && e.status === "running" && queued < 0) {
      this.abortRequested.set(id, reason);
      this.aborts.get(id)?.abort();
      await this.idleOf(id);
    } else {
      if (!this.live.has(id)) {
        if (!(await this.claimForeign(id)))
          throw new ConflictError(`execution ${id} is owned by another replica`);
        await this.adopt(e);
      }
      await this.finish(e, "aborted", reason);
    }
    const after = (await this.deps.store.get(id)) as Execution;
    if (withRollback && after.rollbackStack.length) {
      await this.adopt(after);
      await this.rollback(after, null);
      this.release(after);
    }
    return (await this.deps.store.get(id)) as Execution;
  }

  /**
   * Undoes a succeeded execution (its remediation did not clear the signal): runs the declared
   * rollbacks newest first and marks it rolled_back (or failed when a rollback fails).
   */
  async revert(id: string, actor: string, reason: string): Promise<Execution> {
    const e = (await this.deps.store.get(id)) ?? undefined;
    if (!e) throw new NotFoundError("execution", id);
    if (e.status !== "succeeded")
      throw new ConflictError(`execution ${id} is ${e.status}; only succeeded executions are reverted`);
    if (!(await this.claimForeign(id)))
      throw new ConflictError(`execution ${id} is owned by another replica`);
    await this.adopt(e);
    await this.deps.store.appendAudit([this.audit(id, actor, "rollback.started", null, null, { reason })]);
    const ok = e.rollbackStack.length ? await this.rollback(e, null) : true;
    await this.finish(e, ok ? "rolled_back" : "failed", ok ? reason : `${reason}; rollback failed`);
    return (await this.deps.store.get(id)) as Execution;
  }

  private async idleOf(id: string): Promise<void> {
    while (this.live.has(id) && this.loops.size) await Promise.race([...this.loops]);
  }

  // ---------- deadlines ----------

  private armDeadline(e: Execution): void {
    if (!e.waiting) return;
    this.clearDeadline(e.id);
    const delay = Math.max(0, e.waiting.deadline - this.deps.clock.now());
    const t = setTimeout(
      () => void this.checkDeadlines().catch(() => undefined),
      Math.min(delay + 10, 2 ** 31 - 1),
    );
    t.unref();
    this.timers.set(e.id, t);
  }

  private clearDeadline(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  /** Fails waits whose deadline has passed (timers call this; tests call it after moving the clock). */
  async checkDeadlines(): Promise<number> {
    let n = 0;
    for (const e of [...this.live.values()]) {
      if (!e.waiting || this.deps.clock.now() <= e.waiting.deadline) continue;
      n++;
      const step = e.runbook.steps.find((s) => s.id === e.waiting?.stepId) as Step;
      const what = e.waiting.kind === "approval" ? "approval" : "manual task";
      e.waiting = null;
      e.status = "running";
      this.clearDeadline(e.id);
      await this.stepFailed(e, step, `${what} timed out`, 1);
    }
    return n;
  }

  // ---------- crash recovery ----------

  private adopt(e: Execution): Promise<void> {
    const secrets: Record<string, string> = {};
    for (const [name, ref] of Object.entries(e.runbook.secrets)) {
      const v = this.deps.secrets.resolve(ref);
      if (v !== undefined) secrets[name] = v;
    }
    this.secretsOf.set(e.id, secrets);
    this.live.set(e.id, e);
    e.leaseOwner = this.owner;
    if (e.target !== null && e.mode === "live") this.targets.set(e.target, e.id);
    this.ensureLeaseTimer();
    return Promise.resolve();
  }

  /**
   * Takes over executions whose owner is gone (this process before a crash, or a dead replica): an
   * interrupted step is run again when idempotent; otherwise the runbook's on_interrupt decides between
   * rolling back and marking the execution interrupted for a human. Waits are re-armed.
   */
  async recover(): Promise<{ resumed: number; rolledBack: number; interrupted: number; waiting: number }> {
    const { store, clock, config } = this.deps;
    const now = clock.now();
    const out = { resumed: 0, rolledBack: 0, interrupted: 0, waiting: 0 };
    const me = hostname();
    const candidates = await store.orphans(Number.MAX_SAFE_INTEGER);
    for (const e of candidates) {
      if (this.live.has(e.id)) continue;
      let takeFrom: string | null = null;
      if (e.leaseOwner && e.leaseUntil >= now) {
        const [host, pid] = e.leaseOwner.split(":");
        if (host !== me || pid === undefined || processAlive(Number(pid))) continue;
        takeFrom = e.leaseOwner;
      }
      if (!(await store.claim(e.id, this.owner, now + config.lease, now, takeFrom))) continue;
      await this.adopt(e);
      await store.appendAudit([
        this.audit(e.id, "system", "execution.resumed", e.inFlight, null, {
          status: e.status,
          previousOwner: e.leaseOwner,
          inFlight: e.inFlight,
        }),
      ]);
      if (e.status === "waiting_approval" || e.status === "waiting_manual") {
        out.waiting++;
        this.armDeadline(e);
        continue;
      }
      if (e.inFlight) {
        const step = e.runbook.steps.find((s) => s.id === e.inFlight);
        if (step && isIdempotent(step)) {
          e.inFlight = null;
          out.resumed++;
          this.enqueue(e.id);
        } else if (e.runbook.on_interrupt === "rollback") {
          const inflight = e.inFlight;
          e.inFlight = null;
          await this.save(e, [
            this.audit(e.id, "system", "execution.interrupted", inflight, null, { action: "rollback" }),
          ]);
          const stepRb = step && "rollback" in step && step.rollback ? inflight : null;
          const ok = await this.rollback(e, stepRb);
          await this.finish(
            e,
            ok ? "rolled_back" : "failed",
            `interrupted during step ${inflight}${ok ? "" : "; rollback failed"}`,
          );
          out.rolledBack++;
        } else {
          const inflight = e.inFlight;
          await this.save(e, [
            this.audit(e.id, "system", "execution.interrupted", inflight, null, {
              action: "mark_interrupted",
            }),
          ]);
          await this.finish(
            e,
            "interrupted",
            `interrupted during step ${inflight}, which is not idempotent; check ${e.target ?? "the target"} by hand`,
          );
          out.interrupted++;
        }
        continue;
      }
      out.resumed++;
      this.enqueue(e.id);
    }
    return out;
  }

  private ensureLeaseTimer(): void {
    if (this.leaseTimer || this.closed) return;
    this.leaseTimer = setInterval(
      () => {
        if (this.live.size === 0) return;
        void this.deps.store
          .renew(this.owner, this.deps.clock.now() + this.deps.config.lease)
          .catch((err: unknown) => this.deps.logger.warn({ err }, "lease renewal failed"));
      },
      Math.max(100, Math.floor(this.deps.config.lease / 3)),
    );
    this.leaseTimer.unref();
  }

  /** Stops taking work; lets running steps finish (they are recovered on the next start if cut off). */
  /**
   * Stops taking work. Running executions stop at their next step boundary (an idempotent step in
   * progress is cut short); a non-idempotent step is allowed to finish. Leases are then released so
   * the next start resumes the executions at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shutdown.abort();
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.loops]);
    if (this.live.size) await this.deps.store.renew(this.owner, 0).catch(() => undefined);
  }

  // ---------- reading ----------

  async get(id: string): Promise<Execution> {
    const e = this.live.get(id);
    if (e) return structuredClone(e);
    const s = await this.deps.store.get(id);
    if (!s) throw new NotFoundError("execution", id);
    return s;
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
