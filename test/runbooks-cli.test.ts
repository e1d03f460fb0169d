import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../src/cli/index.js";

describe("novasre runbook CLI", () => {
  let dir: string;
  let stdout: string;
  let stderr: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "novasre-cli-"));
    stdout = "";
    stderr = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it("validate lists problems with file:line:column and exits 2", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "name: ok\nsteps:\n  - id: a\n    kind: wait\n    duration: later\n");
    expect(await runCli(["runbook", "validate", bad])).toBe(2);
    expect(stderr).toContain(`${bad}:5:15: steps[0].duration: invalid duration`);
    const good = join(dir, "good.yaml");
    writeFileSync(good, "name: ok\nsteps:\n  - { id: a, kind: wait, duration: 1s }\n");
    expect(await runCli(["runbook", "validate", good])).toBe(0);
    expect(stdout).toContain(`${good}: ok`);
  });

  it("run --dry-run renders a file's plan locally, with the plan hash, and runs nothing", async () => {
    const f = join(dir, "rb.yaml");
    writeFileSync(
      f,
      `name: rb\nparams: { svc: { required: true } }\nsteps:\n  - { id: a, kind: command, argv: [touch, "${join(dir, "x")}-{{ params.svc }}"] }\n`,
    );
    expect(await runCli(["runbook", "run", f, "--dry-run", "-p", "svc=web"])).toBe(0);
    expect(stdout).toContain(`argv: ["touch","${join(dir, "x")}-web"]`);
    expect(stdout).toMatch(/plan hash: [0-9a-f]{64}/);
    expect(await runCli(["runbook", "run", f, "--dry-run", "-p", "svc=$(id)\n"])).toBe(2);
  });
});
