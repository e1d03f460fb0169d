import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock, silentLogger } from "../src/core/index.js";
import { LocalProcessProvider } from "../src/providers/index.js";
import {
  RunbookExecutor,
  builtinRunbookDir,
  createSecretSource,
  loadLibrary,
  runbooksConfigSchema,
  type Execution,
} from "../src/runbooks/index.js";
import {
  createRunbookStore,
  createSettingsStore,
  openDatabase,
  type Database,
} from "../src/storage/index.js";
import { freePort } from "./support/ports.js";

const samples: Record<string, Record<string, string>> = {
  "service-restart": { service: "web" },
  scale: { service: "web", replicas: "3", previous_replicas: "2" },
  "config-rollback": {
    service: "web",
    admin_url: "http://127.0.0.1:9100",
    version: "v41",
    current_version: "v42",
  },
  "cache-warmup": { service: "web" },
  "traffic-drain": { instance: "10.0.0.7:8080", lb_url: "http://127.0.0.1:9200" },
  "connection-pool-reset": { service: "web" },
  "database-failover": { cluster: "main", replica: "db-2", orchestrator_url: "http://127.0.0.1:8008" },
};

describe("built-in runbook library", () => {
  let database: Database;
  let provider: LocalProcessProvider | undefined;
  beforeEach(async () => {
    database = await openDatabase("sqlite::memory:");
  });
  afterEach(async () => {
    await provider?.close();
    await database.close();
  });

  it("every built-in runbook validates and renders a complete plan", async () => {
    const lib = await loadLibrary([builtinRunbookDir()]);
    expect(lib.errors.map((e) => e.format())).toEqual([]);
    expect([...lib.runbooks.keys()].sort()).toEqual(Object.keys(samples).sort());
    const ex = new RunbookExecutor({
      store: createRunbookStore(database),
      settings: createSettingsStore(database.db),
      clock: new ManualClock(),
      logger: silentLogger(),
      config: runbooksConfigSchema.parse({}),
      secrets: createSecretSource({}),
    });
    for (const [name, l] of lib.runbooks) {
      const r = await ex.dryRun({
        runbook: l.runbook,
        baseDir: l.baseDir,
        params: samples[name] ?? {},
        actor: "test",
      });
      expect(r.problems, name).toEqual([]);
      expect(
        r.plan.steps.filter((s) => s.step.kind === "error"),
        name,
      ).toEqual([]);
    }
  });

  it("service-restart restarts a supervised local process and waits for its health check", async () => {
    const port = await freePort();
    const server = `require("http").createServer((q, s) => s.end(String(process.pid))).listen(${port}, "127.0.0.1")`;
    provider = new LocalProcessProvider([{ name: "web", argv: [process.execPath, "-e", server] }]);
    const started = await provider.run({
      verb: "start",
      target: "web",
      args: {},
      signal: new AbortController().signal,
    });
    expect(started.status).toBe("ok");
    const before = started.status === "ok" ? (started.value.data["pids"] as number[])[0] : 0;
    const lib = await loadLibrary([builtinRunbookDir()]);
    const rb = lib.runbooks.get("service-restart");
    const store = createRunbookStore(database);
    const ex = new RunbookExecutor({
      store,
      settings: createSettingsStore(database.db),
      clock: new ManualClock(),
      logger: silentLogger(),
      config: runbooksConfigSchema.parse({}),
      secrets: createSecretSource({}),
      providers: [provider],
      sleep: (ms, signal) =>
        new Promise((r) => {
          const t = setTimeout(r, Math.min(ms, 100));
          signal.addEventListener("abort", () => (clearTimeout(t), r()));
        }),
    });
    const e = await ex.start({
      runbook: rb!.runbook,
      baseDir: rb!.baseDir,
      params: { service: "web", health_url: `http://127.0.0.1:${port}` },
      actor: "user:test",
    });
    await ex.idle();
    const done = (await store.get(e.id)) as Execution;
    expect(done.status, done.error ?? "").toBe("succeeded");
    const pids = (done.results["restart"]?.json as { pids: number[] }).pids;
    expect(pids).toHaveLength(1);
    expect(pids[0]).not.toBe(before);
    expect(done.results["healthy"]?.status).toBe("succeeded");
  });
});
