import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAOS_APPLY_RUNBOOK, CHAOS_REVERT_RUNBOOK, experimentSchema } from "../src/chaos/index.js";
import { testApp, type TestApp } from "./support/app.js";

function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

const pause = (pid: number) =>
  experimentSchema.parse({
    title: "pause through the runbook executor",
    method: [{ fault: { name: "freeze", type: "process-pause", target: { pid }, duration: "300ms" } }],
    recovery_timeout: 0,
  });

describe("chaos faults inside the app go through the runbook executor", () => {
  let t: TestApp;
  let dir: string;
  let child: ChildProcess;
  let pid: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "novasre-chaos-rb-"));
    t = await testApp({ chaos: { state_dir: dir, level: "dev", watchdog: false } });
    child = spawn("sleep", ["600"], { stdio: "ignore" });
    await new Promise((r) => child.once("spawn", r));
    pid = child.pid as number;
  });
  afterAll(async () => {
    child.kill("SIGKILL");
    await t.app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("applies and reverts a fault as audited runbook executions", async () => {
    let sawStopped = false;
    const poll = setInterval(() => (sawStopped ||= procState(pid) === "T"), 10);
    const j = await t.app.chaos.run(pause(pid));
    clearInterval(poll);
    expect(j.status).toBe("completed");
    expect(sawStopped).toBe(true);
    expect(procState(pid)).not.toBe("T");

    const apply = await t.app.executions.list({ runbook: CHAOS_APPLY_RUNBOOK, limit: 10 });
    const revert = await t.app.executions.list({ runbook: CHAOS_REVERT_RUNBOOK, limit: 10 });
    expect(apply.map((e) => e.status)).toEqual(["succeeded"]);
    expect(revert.map((e) => e.status)).toEqual(["succeeded"]);
    expect(apply[0]?.requestedBy).toBe("system:chaos");
    expect(apply[0]?.params["a1"]).toContain('"SIGSTOP"');
    expect(revert[0]?.params["a1"]).toContain('"SIGCONT"');
    const audit = await t.app.executions.audit(apply[0]?.id ?? "", 50);
    expect(audit.map((a) => a.event)).toEqual(
      expect.arrayContaining(["execution.requested", "step.started", "step.finished", "execution.finished"]),
    );
    expect(t.app.chaos.state.ledger.pending()).toEqual([]);
  });

  it("refuses the fault while automation is halted, and still reverts directly", async () => {
    await t.app.executor.setHalt(true, "user:test", "drill");
    try {
      const j = await t.app.chaos.run(pause(pid));
      expect(j.status).not.toBe("completed");
      const fault = j.run.find((s) => s.type === "fault");
      expect(fault?.status).toBe("failed");
      expect(fault?.error).toMatch(/halted/);
      expect(procState(pid)).not.toBe("T");
      expect(t.app.chaos.state.ledger.pending()).toEqual([]);
      // Only the executions of the first test: nothing new ran.
      expect(await t.app.executions.list({ runbook: CHAOS_APPLY_RUNBOOK, limit: 10 })).toHaveLength(1);
      const refused = (await t.app.executions.audit(null, 200)).filter(
        (a) => a.event === "execution.refused",
      );
      expect(refused.map((a) => a.data["runbook"])).toEqual(
        expect.arrayContaining([CHAOS_APPLY_RUNBOOK, CHAOS_REVERT_RUNBOOK]),
      );
    } finally {
      await t.app.executor.setHalt(false, "user:test", "drill over");
    }
  });
});
