import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runCli } from "../src/cli/index.js";
import { ChaosState } from "../src/chaos/index.js";

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi
    .spyOn(process.stderr, "write")
    .mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await runCli(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("novasre chaos CLI", () => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), "novasre-chaos-cli-"))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("validate lists every problem with exit 2, and accepts a good file", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "title: x\nmethod:\n  - fault: { name: a, type: cpu, workers: 0, load_pct: 500 }\n");
    const r = await run(["chaos", "validate", bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/2 problem\(s\)/);
    expect(r.err).toMatch(/method\[0\]\.fault\.workers/);
    expect(r.err).not.toMatch(/at .*\.ts:/);
    const good = join(dir, "good.yaml");
    await writeFile(
      good,
      `title: fill\nmethod:\n  - fault: { name: fill, type: disk-fill, path: ${dir}, mb: 1 }\n`,
    );
    expect((await run(["chaos", "validate", good])).out).toMatch(/ok \(novasre format, 1 step/);
  });

  it("run --dry-run prints the exact actions; stop blocks runs until clear", async () => {
    const good = join(dir, "good.yaml");
    const state = join(dir, "state");
    const dry = await run(["chaos", "run", good, "--dry-run", "--state-dir", state]);
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/apply: {2}fill .*novasre-fill-flt_\w+\.bin with 1048576 bytes/);
    expect(dry.out).toMatch(/revert: rm -f .*novasre-fill-flt_\w+\.bin/);
    const stop = await run(["chaos", "stop", "--state-dir", state, "--reason", "drill"]);
    expect(stop.out).toMatch(/stopped: reverted 0 fault/);
    expect(new ChaosState(state).stopFlag()?.reason).toBe("drill");
    const loose = await run(["chaos", "run", good, "--state-dir", state, "--level", "dev"]);
    expect(loose.code).toBe(2);
    expect(loose.err).toMatch(/--level dev is less strict than chaos.level staging/);
    const cfg = join(dir, "novasre.yaml");
    await writeFile(cfg, "chaos:\n  level: dev\n");
    const refused = await run(["chaos", "run", good, "--state-dir", state, "-c", cfg]);
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/REFUSED/);
    expect(refused.out).toMatch(/emergency stop clear: stopped by cli:/);
    expect((await run(["chaos", "clear", "--state-dir", state])).out).toMatch(/cleared/);
    const ok = await run(["chaos", "run", good, "--state-dir", state, "-c", cfg]);
    expect(ok.out).toMatch(/COMPLETED {2}fill/);
    expect(ok.code).toBe(0);
  });

  it("stop finds the ledger through chaos.state_dir even when the rest of the config is invalid", async () => {
    const state = join(dir, "state-from-config");
    const target = join(dir, "fault-file");
    await writeFile(target, "x");
    new ChaosState(state).ledger.record({
      id: "flt_cfg",
      runId: "r",
      fault: "leftover",
      target: "t",
      revert: [{ kind: "unlink", path: target }],
      appliedAt: Date.now(),
      pid: process.pid,
    });
    const cfg = join(dir, "broken.yaml");
    await writeFile(cfg, `server:\n  port: not-a-port\nchaos:\n  state_dir: ${state}\n`);
    // Any other command refuses this config...
    expect((await run(["chaos", "status", "-c", cfg])).code).toBe(2);
    // ...but the emergency stop must not.
    const stop = await run(["chaos", "stop", "-c", cfg]);
    expect(stop.code).toBe(0);
    expect(stop.out).toMatch(/reverted 1 fault/);
    expect(existsSync(target)).toBe(false);
    expect(new ChaosState(state).stopFlag()).toBeTruthy();

    const unreadable = await run(["chaos", "stop", "-c", join(dir, "missing.yaml")]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.err).toMatch(/cannot read chaos.state_dir from .*missing.yaml.*pass --state-dir/);
  });
});
