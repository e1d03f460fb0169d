import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock, fingerprint, silentLogger } from "../src/core/index.js";
import { IncidentService, incidentsConfigSchema, type Alert } from "../src/incidents/index.js";
import {
  RunbookExecutor,
  RunbookService,
  createSecretSource,
  parseRunbook,
  runbooksConfigSchema,
} from "../src/runbooks/index.js";
import {
  createIncidentStore,
  createRunbookStore,
  createSettingsStore,
  openDatabase,
  type Database,
} from "../src/storage/index.js";

function alert(labels: Record<string, string>, status: "firing" | "resolved", at: number): Alert {
  return {
    fingerprint: fingerprint(labels),
    source: "test",
    labels,
    annotations: {},
    status,
    startsAt: at,
    endsAt: status === "resolved" ? at : null,
    generatorURL: null,
  };
}

describe("remediation verification and learning", () => {
  let database: Database;
  let dir: string;
  beforeEach(async () => {
    database = await openDatabase("sqlite::memory:");
    dir = mkdtempSync(join(tmpdir(), "novasre-verify-"));
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setup(resolveOnRun: boolean) {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const incidents = new IncidentService({
      store: createIncidentStore(database.db),
      config: incidentsConfigSchema.parse({}),
      clock,
      logger: silentLogger(),
    });
    const store = createRunbookStore(database);
    const notes: string[] = [];
    const flag = join(dir, "applied");
    const rb = parseRunbook(`
name: fix-api
target: "{{ params.service }}"
params: { service: { required: true } }
triggers:
  - matchers: [{ label: alertname, op: "=", value: HighErrors }]
    params: { service: "{{ incident.labels.service }}" }
    verify: { deadline: 1m }
steps:
  - id: apply
    kind: command
    argv: [touch, "${flag}"]
    rollback: { kind: command, argv: [rm, -f, "${flag}"] }
`);
    const hooks: { svc?: RunbookService } = {};
    const executor = new RunbookExecutor({
      store,
      settings: createSettingsStore(database.db),
      clock,
      logger: silentLogger(),
      config: runbooksConfigSchema.parse({}),
      secrets: createSecretSource({}),
      sleep: () => Promise.resolve(),
      onFinished: (e) => hooks.svc?.finished(e),
    });
    const svc = new RunbookService({
      executor,
      store,
      library: new Map([["fix-api", { runbook: rb, file: "fix-api.yaml", baseDir: dir }]]),
      incidents,
      clock,
      logger: silentLogger(),
      shadow: false,
      notify: (n) => notes.push(`${n.kind}: ${n.message}`),
      sleep: async (ms) => {
        clock.advance(ms);
        if (resolveOnRun)
          await incidents.ingest(
            [alert({ alertname: "HighErrors", service: "api" }, "resolved", clock.now())],
            "test",
          );
      },
    });
    hooks.svc = svc;
    const summary = await incidents.ingest(
      [alert({ alertname: "HighErrors", service: "api" }, "firing", clock.now())],
      "alertmanager",
    );
    const inc = await incidents.get(summary.incidentsOpened[0] as string);
    return { svc, executor, store, incidents, inc, notes, flag };
  }

  it("records success when the signal clears, and suggests the runbook for similar incidents", async () => {
    const { svc, executor, store, incidents, inc, flag } = await setup(true);
    const started = await svc.onIncident(inc, 0.9);
    expect(started).toHaveLength(1);
    await executor.idle();
    await svc.idle();
    expect(existsSync(flag)).toBe(true);
    const audit = await store.audit(started[0]?.id as string, 100);
    expect(audit.some((a) => a.event === "verify.cleared")).toBe(true);
    const s = await svc.suggest(inc.id);
    expect(s.signature).toBe("HighErrors@api");
    expect(s.suggestions[0]).toMatchObject({ runbook: "fix-api", successes: 1, attempts: 1 });
    const tl = await incidents.timeline(inc.id);
    expect(
      tl.some((t) => t.actor === "system:runbooks" && String(t.data["text"]).includes("resolved the signal")),
    ).toBe(true);
  });

  it("rolls back and escalates when the signal does not clear by the deadline", async () => {
    const { svc, executor, store, incidents, inc, notes, flag } = await setup(false);
    const started = await svc.onIncident(inc, 0.9);
    await executor.idle();
    await svc.idle();
    await executor.idle();
    const e = await store.get(started[0]?.id as string);
    expect(e?.status).toBe("rolled_back");
    expect(existsSync(flag)).toBe(false);
    expect(notes.some((n) => n.startsWith("remediation_failed"))).toBe(true);
    const audit = (await store.audit(e?.id as string, 100)).map((a) => a.event);
    expect(audit).toEqual(expect.arrayContaining(["verify.failed", "escalated", "rollback.finished"]));
    const tl = await incidents.timeline(inc.id);
    expect(tl.some((t) => String(t.data["text"]).includes("verification failed"))).toBe(true);
    expect((await svc.suggest(inc.id)).suggestions[0]).toMatchObject({ successes: 0, attempts: 1 });
  });

  it("drafts a runbook from operator notes on incidents of a signature", async () => {
    const { svc, incidents, inc } = await setup(true);
    await incidents.record([
      {
        incidentId: inc.id,
        at: 1,
        kind: "note",
        actor: "user:ops",
        data: { text: "restarted with `systemctl restart api`" },
      },
      {
        incidentId: inc.id,
        at: 2,
        kind: "note",
        actor: "user:ops",
        data: { text: "watched the error rate fall" },
      },
    ]);
    const d = await svc.draft("HighErrors@api");
    expect(d.incidents).toBe(1);
    const rb = parseRunbook(d.yaml, "draft");
    expect(rb.draft).toBe(true);
    expect(rb.steps.map((s) => s.kind)).toEqual(["approval", "command", "manual", "manual"]);
    await expect(svc.draft("Nothing@nowhere")).rejects.toThrow(/not found/);
  });

  it("does not trigger below the minimum root-cause confidence", async () => {
    const { svc, inc } = await setup(true);
    expect(await svc.onIncident(inc, 0.84)).toHaveLength(0);
  });
});
