import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { runCli } from "../src/cli/index.js";

async function run(args: string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  const e = vi
    .spyOn(process.stderr, "write")
    .mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await runCli(args), err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("novasre shop", () => {
  it("refuses a bad rate or OTLP URL with exit 2 and one line, before starting anything", async () => {
    const r = await run(["shop", "--rate", "0"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--rate/);
    expect(r.err).not.toMatch(/starting the demo shop/);
    const u = await run(["shop", "--otlp", "ftp://x/v1/traces"]);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/--otlp/);
  });

  it("is listed in the help", async () => {
    let out = "";
    const o = vi
      .spyOn(process.stdout, "write")
      .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    try {
      await runCli(["shop", "--help"]);
    } finally {
      o.mockRestore();
    }
    expect(out).toMatch(/--rate <n>/);
    expect(out).toMatch(/--otlp <url>/);
  });
});

describe("novasre demo and novasre gameday", () => {
  it("refuse bad options and scenario files with exit 2, before starting anything", async () => {
    const missing = await run(["gameday", "--report", "/tmp/r.json"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--scenarios/);
    const rate = await run(["demo", "--rate", "0"]);
    expect(rate.code).toBe(2);
    expect(rate.err).toMatch(/--rate must be at least 1/);
    const dir = mkdtempSync(join(tmpdir(), "novasre-gd-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      "- { name: x, target: orders, fault: partition }\n- { name: y, target: nope, fault: latency }\n",
    );
    const bad = await run(["gameday", "--scenarios", file, "--report", join(dir, "r.json")]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/\[0\]\.params\.peer/);
    expect(bad.err).toMatch(/\[1\]\.target/);
    expect(bad.err).not.toMatch(/starting the platform/);
    const none = await run([
      "gameday",
      "--scenarios",
      join(dir, "missing.yaml"),
      "--report",
      join(dir, "r.json"),
    ]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/cannot read scenario file/);
  });

  it("explain themselves in --help", async () => {
    let out = "";
    const o = vi
      .spyOn(process.stdout, "write")
      .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    try {
      await runCli(["demo", "--help"]);
      await runCli(["gameday", "--help"]);
    } finally {
      o.mockRestore();
    }
    expect(out).toMatch(/the main job/);
    expect(out).toMatch(/--quiet-minutes <n>/);
    expect(out).toMatch(/--scenarios <file>/);
  });
});
