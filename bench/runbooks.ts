/**
 * Runbook executor benchmark: overhead per no-op step and per execution, 1,000 executions in flight at
 * once on SQLite, and recovery time after kill -9 of a server mid-run.
 *
 *   npx tsx bench/runbooks.ts [--steps 2000] [--concurrent 1000] [--crash-executions 50]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApp } from "../src/app.js";
import { validateConfig } from "../src/config/index.js";
import { silentLogger, systemClock } from "../src/core/index.js";
import {
  ACTIVE_STATUSES,
  RunbookExecutor,
  createSecretSource,
  parseRunbook,
  runbooksConfigSchema,
  type Runbook,
} from "../src/runbooks/index.js";
import { createRunbookStore, createSettingsStore, openDatabase } from "../src/storage/index.js";
import { finish, flag, progress } from "./lib.js";

const self = fileURLToPath(import.meta.url);

function noopRunbook(steps: number, name = "noop"): Runbook {
  const list = Array.from({ length: steps }, (_, i) => `  - { id: s${i}, kind: wait, duration: 0 }`).join(
    "\n",
  );
  return parseRunbook(`name: ${name}\nsteps:\n${list}\n`);
}

const unlimited = runbooksConfigSchema.parse({
  max_concurrent: 10_000,
  target_cooldown: 0,
  rate: { max: 1_000_000, window: 1000 },
  storm: { max: 1_000_000, window: 1000 },
});

async function overhead(dir: string, totalSteps: number) {
  const db = await openDatabase(`sqlite:${join(dir, "overhead.db")}`);
  const store = createRunbookStore(db);
  const ex = new RunbookExecutor({
    store,
    settings: createSettingsStore(db.db),
    clock: systemClock,
    logger: silentLogger(),
    config: unlimited,
    secrets: createSecretSource({}),
  });
  const perRun = 100;
  const rb = noopRunbook(perRun);
  // Warm-up (statement cache, JIT): the figure is the steady state.
  for (let i = 0; i < 5; i++) {
    await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "bench" });
    await ex.idle();
  }
  const runs = Math.max(1, Math.round(totalSteps / perRun));
  let t = performance.now();
  for (let i = 0; i < runs; i++) {
    await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "bench" });
    await ex.idle();
  }
  const stepMs = (performance.now() - t) / (runs * perRun);
  const one = noopRunbook(1, "one");
  const execs = 500;
  t = performance.now();
  for (let i = 0; i < execs; i++) {
    await ex.start({ runbook: one, baseDir: null, params: {}, actor: "bench" });
    await ex.idle();
  }
  const execMs = (performance.now() - t) / execs;
  await ex.close();
  await db.close();
  return { stepMs, execMs };
}

async function concurrent(dir: string, n: number) {
  const db = await openDatabase(`sqlite:${join(dir, "concurrent.db")}`);
  const store = createRunbookStore(db);
  const ex = new RunbookExecutor({
    store,
    settings: createSettingsStore(db.db),
    clock: systemClock,
    logger: silentLogger(),
    config: unlimited,
    secrets: createSecretSource({}),
  });
  // Each execution holds for a real wait long enough that all n are in flight together.
  const rb = parseRunbook(`name: hold
steps:
  - { id: a, kind: wait, duration: 0 }
  - { id: hold, kind: wait, duration: 15s }
  - { id: b, kind: wait, duration: 0 }
`);
  const t = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await ex.start({ runbook: rb, baseDir: null, params: {}, actor: "bench" })).id);
  const startedMs = performance.now() - t;
  const peak = (await store.list({ status: ACTIVE_STATUSES, limit: n * 2 })).length;
  await ex.idle();
  const totalMs = performance.now() - t;
  let succeeded = 0;
  for (const id of ids) if ((await store.get(id))?.status === "succeeded") succeeded++;
  await ex.close();
  await db.close();
  return { startedMs, totalMs, succeeded, peak };
}

/** Child process: a server (createApp) that starts executions, or recovers them after a crash. */
async function child(mode: string, dbUrl: string, n: number) {
  const t0 = performance.now();
  const app = await createApp(
    validateConfig({
      storage: { url: dbUrl },
      server: { port: 0 },
      log: { level: "silent" },
      runbooks: {
        builtin: false,
        dirs: [],
        max_concurrent: 10_000,
        target_cooldown: 0,
        rate: { max: 1_000_000, window: 1000 },
        storm: { max: 1_000_000, window: 1000 },
      },
    }),
    { logger: silentLogger() },
  );
  const readyMs = performance.now() - t0;
  if (mode === "start") {
    const rb = parseRunbook(`name: crashy
steps:
  - { id: work, kind: command, argv: [sleep, "3"], idempotent: true }
  - { id: after, kind: wait, duration: 0 }
`);
    for (let i = 0; i < n; i++)
      await app.executor.start({ runbook: rb, baseDir: null, params: {}, actor: "bench" });
    process.stdout.write("started\n");
    await new Promise(() => undefined);
  } else {
    process.stdout.write(`recovered ${readyMs.toFixed(1)}\n`);
    await app.executor.idle();
    process.stdout.write("settled\n");
    await app.close();
  }
}

function waitLine(c: ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = "";
    let err = "";
    c.stderr?.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    c.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) resolve(m);
    });
    c.once("exit", (code) => reject(new Error(`child exited (${code}) before ${re}: ${err}`)));
  });
}

async function crash(dir: string, n: number) {
  const dbUrl = `sqlite:${join(dir, "crash.db")}`;
  const run = (mode: string) =>
    spawn(process.execPath, ["--import", "tsx", self, "--child", mode, "--db", dbUrl, "--n", String(n)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
  const a = run("start");
  await waitLine(a, /started\n/);
  await new Promise((r) => setTimeout(r, 300));
  const killedAt = performance.now();
  a.kill("SIGKILL");
  await new Promise((r) => a.once("exit", r));
  const db = await openDatabase(dbUrl);
  const store = createRunbookStore(db);
  const inFlightAtKill = (await store.list({ status: ACTIVE_STATUSES, limit: n * 2 })).length;
  const b = run("recover");
  const m = await waitLine(b, /recovered ([0-9.]+)\n/);
  const recoveryMs = performance.now() - killedAt;
  await waitLine(b, /settled\n/);
  const settledMs = performance.now() - killedAt;
  await new Promise((r) => b.once("exit", r));
  const all = await store.list({ limit: n * 2 });
  const succeeded = all.filter((e) => e.status === "succeeded").length;
  const lost = n - all.filter((e) => !ACTIVE_STATUSES.includes(e.status)).length;
  await db.close();
  return { inFlightAtKill, recoveryMs, appStartMs: Number(m[1]), settledMs, succeeded, lost };
}

async function main() {
  if (process.argv.includes("--child")) {
    await child(flag("child", "start"), flag("db", ""), Number(flag("n", "10")));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "novasre-bench-rb-"));
  try {
    progress("overhead: no-op steps and single-step executions on a SQLite file");
    const o = await overhead(dir, Number(flag("steps", "2000")));
    progress(`  ${o.stepMs.toFixed(3)} ms per no-op step, ${o.execMs.toFixed(3)} ms per one-step execution`);
    const n = Number(flag("concurrent", "1000"));
    progress(`concurrency: ${n} executions in flight at once`);
    const c = await concurrent(dir, n);
    progress(
      `  started in ${c.startedMs.toFixed(0)} ms, all done in ${c.totalMs.toFixed(0)} ms; peak running ${c.peak}; succeeded ${c.succeeded}/${n}`,
    );
    const k = Number(flag("crash-executions", "50"));
    progress(`crash: kill -9 a server with ${k} executions mid-step, restart, recover`);
    const r = await crash(dir, k);
    progress(
      `  ${r.inFlightAtKill} active at kill; recovered ${r.recoveryMs.toFixed(0)} ms after the kill (app start ${r.appStartMs.toFixed(0)} ms in the new process); all settled after ${r.settledMs.toFixed(0)} ms; succeeded ${r.succeeded}/${k}`,
    );
    finish("runbooks", {
      noop_step_ms: Number(o.stepMs.toFixed(4)),
      execution_overhead_ms: Number(o.execMs.toFixed(3)),
      concurrent_executions: c.succeeded,
      concurrent_requested: n,
      concurrent_peak_running: c.peak,
      concurrent_total_ms: Math.round(c.totalMs),
      lost: n - c.succeeded + r.lost,
      recovery_ms: Math.round(r.recoveryMs),
      recovery_app_start_ms: Math.round(r.appStartMs),
      recovery_settled_ms: Math.round(r.settledMs),
      crash_executions: k,
      crash_in_flight_at_kill: r.inFlightAtKill,
      crash_succeeded_after_recovery: r.succeeded,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
