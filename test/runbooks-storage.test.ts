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
      store = createRunbookStore(database.db);
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
  });
}
