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
