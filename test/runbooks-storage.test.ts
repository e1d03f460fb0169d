import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseRunbook, type Execution, type ExecutionStore } from "../src/runbooks/index.js";
import { createRunbookStore, type Database } from "../src/storage/index.js";
import { backends, dispose } from "./support/databases.js";

const rb = parseRunbook("name: x\ntarget: t\nsteps: [{ id: a, kind: wait, duration: 0 }]\n");

function exec(id: string, over: Partial<Execution> = {}): Execution {
  return {
    id,
    runbook: rb,
    runbookHash: "h",
    baseDir: null,
    params: { a: "1" },
    target: "t",
    mode: "live",
    status: "running",
    cursor: 0,
    stepsRun: 0,
    results: {},
    rollbackStack: [],
    inFlight: null,
    waiting: null,
    planHash: "p",
    incidentId: null,
    incidentLabels: {},
    requestedBy: "user:a",
    reason: "",
    error: null,
    createdAt: 1000,
    updatedAt: 1000,
    finishedAt: null,
    leaseOwner: "owner-a",
    leaseUntil: 5000,
    ...over,
  };
}

for (const backend of backends) {
  describe.skipIf(!backend.available)(`runbook store on ${backend.name}`, () => {
    let database: Database;
    let store: ExecutionStore;
    beforeEach(async () => {
      database = await backend.open();
      store = createRunbookStore(database);
    });
    afterEach(async () => {
      await dispose(database);
    });

    it("round-trips an execution and appends audit in the same transaction", async () => {
      const e = exec("rbe_1");
      await store.insert(e, [
        {
          executionId: "rbe_1",
          at: 1,
          actor: "a",
          event: "execution.requested",
          stepId: null,
          attempt: null,
          data: { x: 1 },
        },
      ]);
      await store.save(
        {
          ...e,
          cursor: 1,
          results: { a: { status: "succeeded", stdout: "ünï" } },
          status: "succeeded",
          finishedAt: 2000,
        },
        [
          {
            executionId: "rbe_1",
            at: 2,
            actor: "system",
            event: "step.started",
            stepId: "a",
            attempt: 1,
            data: {},
          },
          {
            executionId: "rbe_1",
            at: 3,
            actor: "system",
            event: "step.finished",
            stepId: "a",
            attempt: 1,
            data: {},
          },
        ],
      );
      const got = await store.get("rbe_1");
      expect(got).toMatchObject({ cursor: 1, status: "succeeded", params: { a: "1" }, finishedAt: 2000 });
      expect(got?.results["a"]?.stdout).toBe("ünï");
      expect(got?.runbook.name).toBe("x");
      expect((await store.audit("rbe_1", 10)).map((a) => a.event)).toEqual([
        "execution.requested",
        "step.started",
        "step.finished",
      ]);
      expect(await store.lastFinishedOn("t")).toBe(2000);
      expect(await store.countSince("x", 0)).toBe(1);
      expect(await store.countSince(null, 1001)).toBe(0);
    });

    it("leases: only expired, free, own or named-dead owners can be claimed; renew extends active ones", async () => {
      await store.insert(exec("rbe_2"), []);
      expect(await store.orphans(4000)).toHaveLength(0);
      expect(await store.claim("rbe_2", "owner-b", 9000, 4000, null)).toBe(false);
      expect(await store.claim("rbe_2", "owner-b", 9000, 4000, "owner-a")).toBe(true);
      expect(await store.claim("rbe_2", "owner-c", 9500, 6000, null)).toBe(false);
      await store.renew("owner-b", 20_000);
      expect((await store.get("rbe_2"))?.leaseUntil).toBe(20_000);
      expect(await store.orphans(25_000)).toHaveLength(1);
      expect(await store.claim("rbe_2", "owner-c", 30_000, 25_000, null)).toBe(true);
    });

    it("records outcomes and filters lists", async () => {
      await store.insert(exec("rbe_3", { incidentId: "inc_1", status: "waiting_approval" }), []);
      await store.insert(exec("rbe_4", { status: "failed", target: "u" }), []);
      expect((await store.list({ status: ["waiting_approval"], limit: 10 })).map((e) => e.id)).toEqual([
        "rbe_3",
      ]);
      expect((await store.list({ incidentId: "inc_1", limit: 10 })).map((e) => e.id)).toEqual(["rbe_3"]);
      expect((await store.list({ limit: 1 })).map((e) => e.id)).toEqual(["rbe_4"]);
      expect((await store.list({ before: "rbe_4", limit: 10 })).map((e) => e.id)).toEqual(["rbe_3"]);
      await store.recordOutcome({
        signature: "A@api",
        runbook: "x",
        incidentId: "inc_1",
        executionId: "rbe_3",
        success: true,
        at: 5,
      });
      expect(await store.outcomes(10)).toEqual([
        { signature: "A@api", runbook: "x", incidentId: "inc_1", executionId: "rbe_3", success: true, at: 5 },
      ]);
    });

    it("saves results across saves exactly as JSON.stringify would, reusing unchanged ones", async () => {
      const e = exec("rbe_5");
      await store.insert(e, []);
      const first = { status: "succeeded" as const, stdout: 'line "1"\nü', attempts: 1 };
      e.results = { a: first, 'odd "key"\u2028': { status: "skipped" } };
      e.cursor = 1;
      await store.save(e, []);
      e.results = { ...e.results, b: { status: "failed", error: "x", json: { n: [1, null] } } };
      e.results["a"] = { ...first, note: "replaced" };
      e.cursor = 2;
      await store.save(e, []);
      const got = await store.get("rbe_5");
      expect(got?.cursor).toBe(2);
      expect(got?.results).toEqual(JSON.parse(JSON.stringify(e.results)));
    });

    it("a save during another open transaction is not part of it", async () => {
      await store.insert(exec("rbe_6"), []);
      let entered!: () => void;
      const inTx = new Promise<void>((r) => (entered = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const other = database.db.transaction().execute(async (tx) => {
        await tx
          .insertInto("runbook_audit")
          .values({
            execution_id: "rbe_6",
            at: 1,
            actor: "other",
            event: "halt",
            step_id: null,
            attempt: null,
            data: "{}",
          })
          .execute();
        entered();
        await gate;
        throw new Error("other transaction rolled back");
      });
      await inTx;
      const saved = store.save(exec("rbe_6", { cursor: 1 }), [
        {
          executionId: "rbe_6",
          at: 2,
          actor: "system",
          event: "step.finished",
          stepId: "a",
          attempt: 1,
          data: {},
        },
      ]);
      release();
      await expect(other).rejects.toThrow("other transaction rolled back");
      await saved;
      expect((await store.get("rbe_6"))?.cursor).toBe(1);
      expect((await store.audit("rbe_6", 10)).map((a) => a.actor)).toEqual(["system"]);
    });
  });
}
