import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ChaosActionProvider } from "./runbook-executor.js";

describe("ChaosActionProvider", () => {
  const provider = new ChaosActionProvider();
  const signal = new AbortController().signal;

  it("runs the action in args.action for start and stop", async () => {
    const dir = await mkdtemp(join(tmpdir(), "novasre-chaos-provider-"));
    try {
      const path = join(dir, "f");
      const action = JSON.stringify({ kind: "write-file", path, content: "x" });
      const r = await provider.run({ verb: "start", target: "f", args: { action }, signal });
      expect(r.status).toBe("ok");
      expect(await readFile(path, "utf8")).toBe("x");
      const u = JSON.stringify({ kind: "unlink", path });
      expect((await provider.run({ verb: "stop", target: "f", args: { action: u }, signal })).status).toBe(
        "ok",
      );
      await expect(readFile(path, "utf8")).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("answers other verbs and malformed actions with error values", async () => {
    const action = JSON.stringify({ kind: "in-process", note: "n" });
    const restart = await provider.run({ verb: "restart", target: "f", args: { action }, signal });
    expect(restart).toMatchObject({ status: "error", retryable: false });
    for (const bad of ["{", JSON.stringify({ kind: "format-disk" }), 5])
      expect((await provider.run({ verb: "start", target: "f", args: { action: bad }, signal })).status).toBe(
        "error",
      );
  });
});
