import { appendFileSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compactLedger, FileLedger, revertPending, type LedgerEntry } from "./ledger.js";

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "novasre-ledger-"))));
afterEach(() => rm(dir, { recursive: true, force: true }));

const entry = (id: string, path: string): LedgerEntry => ({
  id,
  runId: "run_1",
  fault: `f-${id}`,
  target: "disk",
  revert: [{ kind: "write-file", path, content: `reverted ${id}` }],
  appliedAt: 1,
  pid: 1,
});

describe("file ledger", () => {
  it("keeps entries until marked reverted, and survives a torn last line", () => {
    const l = new FileLedger(join(dir, "sub", "ledger.jsonl"));
    expect(l.pending()).toEqual([]);
    l.record(entry("a", join(dir, "a")));
    l.record(entry("b", join(dir, "b")));
    l.markReverted(["a"], 2, "test");
    appendFileSync(l.path, '{"op":"apply","id":"c","ru');
    expect(l.pending().map((e) => e.id)).toEqual(["b"]);
  });

  it("revertPending runs every revert, records it, and compaction keeps only what is pending", async () => {
    const l = new FileLedger(join(dir, "ledger.jsonl"));
    l.record(entry("a", join(dir, "a")));
    l.record(entry("b", join(dir, "b")));
    const r = await revertPending(
      l,
      "test",
      () => 5,
      (e) => e.id === "b",
    );
    expect(r.reverted.map((x) => x.id)).toEqual(["b"]);
    expect(readFileSync(join(dir, "b"), "utf8")).toBe("reverted b");
    compactLedger(l);
    expect(readFileSync(l.path, "utf8").trim().split("\n")).toHaveLength(1);
    expect(l.pending().map((e) => e.id)).toEqual(["a"]);
    await revertPending(l, "test", () => 6);
    expect(l.pending()).toEqual([]);
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("reverted a");
  });

  it("records revert errors and still marks the entry done", async () => {
    const l = new FileLedger(join(dir, "ledger.jsonl"));
    l.record({ ...entry("x", ""), revert: [{ kind: "exec", argv: ["/nonexistent/novasre-revert"] }] });
    const r = await revertPending(l, "test", () => 1);
    expect(r.reverted[0]?.errors[0]).toMatch(/ENOENT/);
    expect(l.pending()).toEqual([]);
  });
});
