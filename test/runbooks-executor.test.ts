import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock, silentLogger } from "../src/core/index.js";
import {
  RunbookExecutor,
  createSecretSource,
  parseRunbook,
  runbooksConfigSchema,
  type Execution,
  type ExecutionStore,
  type RunbooksConfig,
} from "../src/runbooks/index.js";
import { createRunbookStore, createSettingsStore, type Database } from "../src/storage/index.js";
import { backends, dispose } from "./support/databases.js";

const instant = (_ms: number, _s: AbortSignal) => Promise.resolve();

function makeExecutor(
  database: Database,
  clock: ManualClock,
  config: Partial<RunbooksConfig> = {},
  env: NodeJS.ProcessEnv = { PATH: process.env["PATH"] },
  notes: string[] = [],
  limitExempt: string[] = [],
) {
  const store = createRunbookStore(database);
  const ex = new RunbookExecutor({
    store,
    settings: createSettingsStore(database.db),
    clock,
    logger: silentLogger(),
    config: { ...runbooksConfigSchema.parse({}), ...config },
    secrets: createSecretSource(env),
    env,
    sleep: instant,
    notify: (n) => notes.push(n.kind),
    limitExempt,
  });
  return { ex, store };
}

async function settle(ex: RunbookExecutor, store: ExecutionStore, id: string): Promise<Execution> {
  await ex.idle();
  return (await store.get(id)) as Execution;
}

const echo = (extra = "") =>
  parseRunbook(`
name: echo
target: "{{ params.service }}"
params:
  service: { required: true, pattern: "[a-z0-9-]+" }
  message: { default: hello, max_length: 2000000 }
steps:
  - id: say
    kind: command
    argv: [printf, "%s", "{{ params.message }}"]
${extra}`);

for (const backend of backends) {
  describe.skipIf(!backend.available)(`runbook executor on ${backend.name}`, () => {
    let database: Database;
    let clock: ManualClock;
    let dir: string;
    beforeEach(async () => {
      database = await backend.open();
      clock = new ManualClock(Date.UTC(2026, 5, 1));
      dir = mkdtempSync(join(tmpdir(), "novasre-rb-"));
    });
    afterEach(async () => {
      await dispose(database);
      rmSync(dir, { recursive: true, force: true });
    });

    it("runs a command as argv, captures output and records every step in the audit", async () => {
      const { ex, store } = makeExecutor(database, clock);
      const e = await ex.start({
        runbook: echo(),
        baseDir: null,
        params: { service: "api", message: "hi there" },
        actor: "user:alice",
      });
      const done = await settle(ex, store, e.id);
      expect(done.status).toBe("succeeded");
      expect(done.results["say"]?.stdout).toBe("hi there");
      expect(done.results["say"]?.exit_code).toBe(0);
      const events = (await store.audit(e.id, 100)).map((a) => `${a.event}:${a.stepId ?? ""}`);
      expect(events).toEqual([
        "execution.requested:",
        "execution.started:",
        "step.started:say",
        "step.finished:say",
        "execution.finished:",
      ]);
    });

    it("hands hostile values to the program as one argument and runs nothing else", async () => {
      const { ex, store } = makeExecutor(database, clock);
      const marker = join(dir, "pwned");
      const hostile = [
        `$(touch ${marker})`,
        `\`touch ${marker}\``,
        `; touch ${marker}`,
        `| touch ${marker} &&`,
        `../../../etc/passwd`,
        `x'"; touch ${marker}; echo "'`,
        "ünïcödé ✓ 🚨 \u202e",
        "a".repeat(1_000_000),
      ];
      for (const [i, message] of hostile.entries()) {
        clock.advance(10 * 60_000);
        const e = await ex.start({
          runbook: echo(),
          baseDir: null,
          params: { service: `s${i}`, message },
          actor: "policy:test",
        });
        const done = await settle(ex, store, e.id);
        if (message.length < 65536) {
          expect(done.status).toBe("succeeded");
          expect(done.results["say"]?.stdout).toBe(message);
        } else {
          // Linux refuses a single argument over 128 KiB; the step fails and nothing runs.
          expect(done.status).toBe("failed");
          expect(done.error).toMatch(/E2BIG/);
        }
      }
      expect(existsSync(marker)).toBe(false);
      const requested = (await store.list({ limit: 20 })).length;
      expect(requested).toBe(hostile.length);
    });

    it("refuses control characters, leading dashes and undeclared params, and audits the refusals", async () => {
      const { ex, store } = makeExecutor(database, clock);
      for (const params of [
        { service: "api", message: "line\nbreak" },
        { service: "api", message: "--output=/etc/passwd" },
        { service: "api;rm", message: "x" },
        { service: "api", extra: "x" },
      ]) {
        await expect(
          ex.start({ runbook: echo(), baseDir: null, params, actor: "policy:test" }),
        ).rejects.toThrow(/parameter/);
      }
      const refused = await store.audit(null, 100);
      expect(refused.filter((a) => a.event === "execution.refused")).toHaveLength(4);
      expect((await store.list({ limit: 10 })).length).toBe(0);
    });

    it("masks secrets in outputs and the audit, and passes them through the environment", async () => {
      const env = { PATH: process.env["PATH"], DB_PASSWORD: "s3cr3t-value" };
      const { ex, store } = makeExecutor(database, clock, {}, env);
      const rb = parseRunbook(`
name: secretive
secrets: { pw: { env: DB_PASSWORD } }
steps:
  - id: show
    kind: command
    argv: [sh, -c, 'printf "pw=%s" "$PW"']
    env: { PW: "{{ secrets.pw }}" }
`);
      const dry = await ex.dryRun({ runbook: rb, baseDir: null, params: {}, actor: "user:a" });
      expect(JSON.stringify(dry.plan)).toContain("${secret:pw}");
      expect(JSON.stringify(dry.plan)).not.toContain("s3cr3t");
      const e = await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "user:a" });
      const done = await settle(ex, store, e.id);
      expect(done.status).toBe("succeeded");
      expect(done.results["show"]?.stdout).toBe("pw=***");
      expect(JSON.stringify(await store.audit(e.id, 100))).not.toContain("s3cr3t");
    });

    it("rolls back completed steps when a later step fails", async () => {
      const { ex, store } = makeExecutor(database, clock);
      const flag = join(dir, "state");
      const rb = parseRunbook(`
name: change
steps:
  - id: apply
    kind: command
    argv: [touch, "${flag}"]
    rollback: { kind: command, argv: [rm, -f, "${flag}"] }
  - id: broken
    kind: command
    argv: ["false"]
`);
      const e = await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "user:a" });
      const done = await settle(ex, store, e.id);
      expect(done.status).toBe("rolled_back");
      expect(existsSync(flag)).toBe(false);
      expect(done.results["apply.rollback"]?.status).toBe("succeeded");
    });

    it("binds approval to the plan hash and the approver's role; refusals are audited", async () => {
      const { ex, store } = makeExecutor(database, clock);
      const rb = parseRunbook(`
name: gated
risk: high
steps:
  - id: ok
    kind: approval
    message: restart it?
  - id: act
    kind: command
    argv: ["true"]
`);
      const e = await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "user:alice" });
      let cur = await settle(ex, store, e.id);
      expect(cur.status).toBe("waiting_approval");
      await expect(
        ex.decide(e.id, { actor: "user:viewer", role: "viewer" }, e.planHash, true),
      ).rejects.toThrow(/operator role/);
      await expect(
        ex.decide(e.id, { actor: "user:bob", role: "operator" }, "0".repeat(64), true),
      ).rejects.toThrow(/plan hash/);
      await ex.decide(e.id, { actor: "user:bob", role: "operator" }, e.planHash, true, "looks right");
      cur = await settle(ex, store, e.id);
      expect(cur.status).toBe("succeeded");
      const audit = await store.audit(e.id, 100);
      expect(audit.filter((a) => a.event === "approval.refused").map((a) => a.actor)).toEqual([
        "user:viewer",
        "user:bob",
      ]);
      expect(audit.find((a) => a.event === "approval.granted")?.actor).toBe("user:bob");
    });

    it("waits for a manual task, refuses a viewer (audited) and records the operator's note", async () => {
      const { ex, store } = makeExecutor(database, clock);
      const rb = parseRunbook(`
name: handwork
steps:
  - { id: check, kind: manual, instructions: "check the DNS for {{ params.zone }}" }
  - { id: after, kind: command, argv: [printf, "%s", "{{ steps.check.note }}"] }
params: { zone: { default: example.org } }
`);
      const e = await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "user:a" });
      const waiting = await settle(ex, store, e.id);
      expect(waiting.status).toBe("waiting_manual");
      expect(waiting.waiting?.message).toBe("check the DNS for example.org");
      await expect(ex.completeManual(e.id, { actor: "user:v", role: "viewer" }, true, "x")).rejects.toThrow(
        /operator/,
      );
      await ex.completeManual(e.id, { actor: "user:op", role: "operator" }, true, "records fixed");
      const done = await settle(ex, store, e.id);
      expect(done.status).toBe("succeeded");
      expect(done.results["check"]).toMatchObject({
        status: "succeeded",
        actor: "user:op",
        note: "records fixed",
      });
      expect(done.results["after"]?.stdout).toBe("records fixed");
      const events = (await store.audit(e.id, 50)).map((a) => `${a.event}:${a.actor}`);
      expect(events).toEqual(expect.arrayContaining(["manual.refused:user:v", "manual.completed:user:op"]));
    });

    it("fails an approval that times out", async () => {
      const { ex, store } = makeExecutor(database, clock);
      const rb = parseRunbook(`
name: gated
steps:
  - { id: ok, kind: approval, timeout: 1m }
  - { id: act, kind: command, argv: ["true"] }
`);
      const e = await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "user:alice" });
      await settle(ex, store, e.id);
      clock.advance(2 * 60_000);
      expect(await ex.checkDeadlines()).toBe(1);
      const done = await settle(ex, store, e.id);
      expect(done.status).toBe("failed");
      expect(done.error).toMatch(/timed out/);
    });

    it("follows decisions over earlier outputs", async () => {
      const { ex, store } = makeExecutor(database, clock);
      const rb = parseRunbook(`
name: branchy
steps:
  - { id: probe, kind: command, argv: [printf, degraded] }
  - id: route
    kind: decision
    branches: [{ if: "steps.probe.stdout == 'healthy'", goto: end }]
  - { id: fix, kind: command, argv: [printf, fixed] }
`);
      const e = await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "user:a" });
      const done = await settle(ex, store, e.id);
      expect(done.status).toBe("succeeded");
      expect(done.results["fix"]?.stdout).toBe("fixed");
    });

    it("guards: one execution per target, cooldown, rate per runbook, storm breaker", async () => {
      const { ex, store } = makeExecutor(database, clock, {
        target_cooldown: 60_000,
        rate: { max: 3, window: 3_600_000 },
        storm: { max: 4, window: 3_600_000 },
      });
      const gated = parseRunbook(`
name: gated
target: "{{ params.t }}"
params: { t: { required: true } }
steps: [{ id: ok, kind: approval }]
`);
      const first = await ex.start({ runbook: gated, baseDir: null, params: { t: "db" }, actor: "a" });
      await expect(
        ex.start({ runbook: gated, baseDir: null, params: { t: "db" }, actor: "a" }),
      ).rejects.toThrow(/busy/);
      await ex.abort(first.id, "user:a");
      await expect(
        ex.start({ runbook: gated, baseDir: null, params: { t: "db" }, actor: "a" }),
      ).rejects.toThrow(/cooling down/);
      await ex.start({ runbook: gated, baseDir: null, params: { t: "x1" }, actor: "a" });
      await ex.start({ runbook: gated, baseDir: null, params: { t: "x2" }, actor: "a" });
      await expect(
        ex.start({ runbook: gated, baseDir: null, params: { t: "x3" }, actor: "a" }),
      ).rejects.toThrow(/limit 3/);
      await ex.start({ runbook: echo(), baseDir: null, params: { service: "y" }, actor: "a" });
      await expect(
        ex.start({ runbook: echo(), baseDir: null, params: { service: "z" }, actor: "a" }),
      ).rejects.toThrow(/storm/);
      expect(await ex.haltState()).toMatchObject({ halted: true, by: "system:storm-breaker" });
      expect((await store.audit(null, 100)).some((a) => a.event === "storm_breaker")).toBe(true);
    });

    it("neither counts nor limits exempt runbooks (chaos fault injection) in the storm and rate guards", async () => {
      const { ex } = makeExecutor(
        database,
        clock,
        { rate: { max: 1, window: 3_600_000 }, storm: { max: 2, window: 3_600_000 } },
        undefined,
        [],
        ["inject"],
      );
      const inject = parseRunbook('name: inject\nsteps: [{ id: ok, kind: command, argv: ["true"] }]\n');
      for (let i = 0; i < 5; i++)
        await ex.start({ runbook: inject, baseDir: null, params: {}, actor: "chaos" });
      // Five injections later, remediation still has its whole storm budget.
      await ex.start({ runbook: echo(), baseDir: null, params: { service: "a" }, actor: "a" });
      await expect(
        ex.start({ runbook: echo(), baseDir: null, params: { service: "b" }, actor: "a" }),
      ).rejects.toThrow(/limit 1/);
      expect(await ex.haltState()).toBeUndefined();
    });

    it("keeps the kill switch across restarts and aborts running work", async () => {
      const a = makeExecutor(database, clock);
      await a.ex.setHalt(true, "user:ops", "maintenance");
      await a.ex.close();
      const b = makeExecutor(database, clock);
      await expect(
        b.ex.start({ runbook: echo(), baseDir: null, params: { service: "api" }, actor: "a" }),
      ).rejects.toThrow(/halted by user:ops/);
      await b.ex.setHalt(false, "user:ops", "done");
      const e = await b.ex.start({ runbook: echo(), baseDir: null, params: { service: "api" }, actor: "a" });
      expect((await settle(b.ex, b.store, e.id)).status).toBe("succeeded");
    });

    it("dry-run renders the exact plan with percent-encoded URL values and runs nothing", async () => {
      const { ex, store } = makeExecutor(database, clock);
      const rb = parseRunbook(`
name: web
params:
  base: { type: url, default: "http://127.0.0.1:9" }
  svc: { default: "a/b?c=d&e" }
steps:
  - id: call
    kind: http
    method: POST
    url: "{{ params.base }}/drain/{{ params.svc }}?who={{ incident.labels.team }}"
    body: { service: "{{ params.svc }}", n: "{{ 1 + 2 }}" }
`);
      const r = await ex.dryRun({
        runbook: rb,
        baseDir: null,
        params: {},
        incident: { id: "inc_1", labels: { team: "a b&c" } },
        actor: "user:a",
      });
      const step = r.plan.steps[0]?.step as { url: string; body: string };
      expect(step.url).toBe("http://127.0.0.1:9/drain/a%2Fb%3Fc%3Dd%26e?who=a%20b%26c");
      expect(JSON.parse(step.body)).toEqual({ service: "a/b?c=d&e", n: 3 });
      expect((await store.list({ limit: 5 })).length).toBe(0);
    });

    it("recovers after a crash: idempotent steps resume, others are marked interrupted or rolled back", async () => {
      const flag = join(dir, "applied");
      const rbText = (onInterrupt: string, idempotent: boolean) => `
name: crashy-${onInterrupt}-${idempotent}
on_interrupt: ${onInterrupt}
steps:
  - id: apply
    kind: command
    idempotent: ${idempotent}
    argv: [touch, "${flag}"]
    rollback: { kind: command, argv: [rm, -f, "${flag}"] }
`;
      const a = makeExecutor(database, clock);
      const ids: string[] = [];
      for (const [oi, idem] of [
        ["mark_interrupted", true],
        ["mark_interrupted", false],
        ["rollback", false],
      ] as const) {
        // Simulate a crash: the execution is saved with its step started, then the process dies.
        const e = await a.ex.start({
          runbook: parseRunbook(rbText(oi, idem)),
          baseDir: null,
          params: {},
          actor: "a",
        });
        ids.push(e.id);
      }
      await a.ex.idle();
      for (const id of ids) {
        const e = (await a.store.get(id)) as Execution;
        await a.store.save(
          {
            ...e,
            status: "running",
            inFlight: "apply",
            cursor: 0,
            finishedAt: null,
            results: {},
            rollbackStack: [],
            leaseOwner: "elsewhere:1:x",
            leaseUntil: clock.now() + 1000,
          },
          [],
        );
      }
      clock.advance(60_000);
      const b = makeExecutor(database, clock);
      const r = await b.ex.recover();
      expect(r).toEqual({ resumed: 1, rolledBack: 1, interrupted: 1, waiting: 0 });
      await b.ex.idle();
      const [resumed, interrupted, rolled] = await Promise.all(ids.map((id) => b.store.get(id)));
      expect(resumed?.status).toBe("succeeded");
      expect(interrupted?.status).toBe("interrupted");
      expect(rolled?.status).toBe("rolled_back");
      expect(rolled?.results["apply.rollback"]?.status).toBe("succeeded");
    });

    it("aborting kills the running step's process and can roll back completed steps", async () => {
      const { ex, store } = makeExecutor(database, clock);
      const flag = join(dir, "applied");
      const rb = parseRunbook(`
name: slow
steps:
  - id: apply
    kind: command
    argv: [touch, "${flag}"]
    rollback: { kind: command, argv: [rm, -f, "${flag}"] }
  - { id: hang, kind: command, argv: [sleep, "30"] }
`);
      const e = await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "user:a" });
      for (let i = 0; i < 200 && (await store.get(e.id))?.inFlight !== "hang"; i++)
        await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      const done = await ex.abort(e.id, "user:ops", true);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(done.status).toBe("aborted");
      expect(done.error).toBe("aborted by user:ops");
      expect(existsSync(flag)).toBe(false);
      const events = (await store.audit(e.id, 100)).map((a) => a.event);
      expect(events).toEqual(expect.arrayContaining(["execution.abort_requested", "rollback.finished"]));
    });

    it("runs script and http steps with retries, and keeps outputs for later steps", async () => {
      const { createServer } = await import("node:http");
      let calls = 0;
      const seen: string[] = [];
      const server = createServer((req, res) => {
        calls++;
        seen.push(req.url ?? "");
        res.statusCode = calls < 3 ? 503 : 200;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ ok: calls >= 3, n: calls }));
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const port = (server.address() as { port: number }).port;
      const { writeFileSync, chmodSync } = await import("node:fs");
      writeFileSync(join(dir, "hello.sh"), '#!/bin/sh\nprintf "hello %s" "$1"\n');
      chmodSync(join(dir, "hello.sh"), 0o755);
      try {
        const { ex, store } = makeExecutor(database, clock);
        const rb = parseRunbook(`
name: mixed
params: { who: { default: "a/b c" } }
steps:
  - { id: script, kind: script, path: hello.sh, args: ["{{ params.who }}"] }
  - id: call
    kind: http
    url: "http://127.0.0.1:${port}/x/{{ params.who }}"
    retry: { attempts: 3, backoff: 10ms }
  - id: after
    kind: command
    argv: [printf, "%s-%s", "{{ steps.call.json.n }}", "{{ steps.script.stdout }}"]
`);
        const e = await ex.start({ runbook: rb, baseDir: dir, params: {}, actor: "user:a" });
        const done = await settle(ex, store, e.id);
        expect(done.status, done.error ?? "").toBe("succeeded");
        expect(done.results["call"]).toMatchObject({ http_status: 200, attempts: 3 });
        expect(done.results["after"]?.stdout).toBe("3-hello a/b c");
        expect(seen[0]).toBe("/x/a%2Fb%20c");
        const attempts = (await store.audit(e.id, 100)).filter(
          (a) => a.stepId === "call" && a.event === "step.finished",
        );
        expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
      } finally {
        server.close();
      }
    });

    it("a graceful shutdown cuts an idempotent step short and the next start resumes it", async () => {
      const realSleep = (ms: number, signal: AbortSignal) =>
        new Promise<void>((r) => {
          const t = setTimeout(r, ms);
          signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
        });
      const store = createRunbookStore(database);
      const deps = {
        store,
        settings: createSettingsStore(database.db),
        clock,
        logger: silentLogger(),
        config: runbooksConfigSchema.parse({}),
        secrets: createSecretSource({}),
        sleep: realSleep,
      };
      const rb = parseRunbook(`
name: long
steps:
  - { id: pause, kind: wait, duration: 1h }
  - { id: after, kind: command, argv: [printf, done] }
`);
      const a = new RunbookExecutor(deps);
      const e = await a.start({ runbook: rb, baseDir: null, params: {}, actor: "user:a" });
      await new Promise((r) => setTimeout(r, 50));
      await a.close();
      const mid = (await store.get(e.id)) as Execution;
      expect(mid.status).toBe("running");
      expect(mid.cursor).toBe(0);
      expect(mid.leaseUntil).toBe(0);
      const b = new RunbookExecutor({ ...deps, sleep: instant });
      expect(await b.recover()).toMatchObject({ resumed: 1 });
      await b.idle();
      const done = (await store.get(e.id)) as Execution;
      expect(done.status).toBe("succeeded");
      expect(done.results["after"]?.stdout).toBe("done");
    });

    it("shadow mode records what would run and runs nothing", async () => {
      const { ex, store } = makeExecutor(database, clock);
      const marker = join(dir, "shadow");
      const rb = parseRunbook(`
name: shadowed
steps: [{ id: act, kind: command, argv: [touch, "${marker}"] }]
`);
      const e = await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "policy:p", mode: "shadow" });
      const done = await settle(ex, store, e.id);
      expect(done.status).toBe("succeeded");
      expect(existsSync(marker)).toBe(false);
      const shadow = (await store.audit(e.id, 50)).find((a) => a.event === "step.shadow");
      expect(shadow?.data).toMatchObject({ wouldRun: { argv: ["touch", marker] } });
    });
  });
}
